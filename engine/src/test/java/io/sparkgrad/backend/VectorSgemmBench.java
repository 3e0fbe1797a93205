package io.sparkgrad.backend;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A quick sgemm measurement (not a test): GFLOP/s of {@link VectorSgemm} for n×n·n×n with 1 and 2
 * threads, next to netlib's pure-Java BLAS and numpy in the same run. Each contender runs in its
 * own process, the rounds alternate between them, and the table shows the median over rounds.
 * Separate JVMs matter: netlib's VectorBLAS uses {@code FloatVector.SPECIES_MAX}, and HotSpot 17
 * loses the Vector API fast path when one JVM runs the same operations with two species.
 * <pre>
 * mvn -q -o -pl engine test-compile
 * mvn -q -o -pl engine dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes:$(cat /tmp/cp.txt) \
 *      io.sparkgrad.backend.VectorSgemmBench [rounds]
 * </pre>
 * System properties: {@code bench.sizes} (default 128,256,512,1024,2048), {@code bench.python}
 * (default /usr/bin/python3), {@code bench.pythonLibraryPath} (an LD_LIBRARY_PATH for numpy, e.g.
 * a directory holding OpenBLAS's libblas.so.3), {@code bench.jvmArgs} (extra options for the
 * VectorSgemm workers, e.g. {@code -Dsparkgrad.sgemm.bits=256}).
 */
public final class VectorSgemmBench {
    private static final double RUN_SECONDS = 0.15;
    private static final int RUNS = 7;

    private VectorSgemmBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--worker")) {
            worker(args[1], Integer.parseInt(args[2]), sizes(args[3]));
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        String sizeList = System.getProperty("bench.sizes", "128,256,512,1024,2048");
        int[] sizes = sizes(sizeList);
        String[] contenders = {"vector", "netlib", "numpy"};
        int[] threadCounts = {1, 2};
        // results[contender@threads][n] -> one median per round
        Map<String, Map<Integer, List<Double>>> results = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int t : threadCounts) {
                for (String who : contenders) {
                    if (who.equals("netlib") && t > 1) {
                        continue; // single-threaded
                    }
                    List<String> lines = who.equals("numpy") ? runNumpy(t, sizeList) : runWorker(who, t, sizeList);
                    for (String line : lines) {
                        if (line.startsWith("#")) {
                            if (round == 0) {
                                notes.add(who + " t=" + t + ": " + line.substring(1).trim());
                            }
                            continue;
                        }
                        String[] f = line.trim().split("\\s+");
                        if (f.length == 2) {
                            results.computeIfAbsent(who + "@" + t, x -> new LinkedHashMap<>())
                                    .computeIfAbsent(Integer.parseInt(f[0]), x -> new ArrayList<>())
                                    .add(Double.parseDouble(f[1]));
                        }
                    }
                }
            }
            System.err.println("round " + (round + 1) + " of " + rounds + " done");
        }
        notes.forEach(s -> System.out.println("# " + s));
        System.out.printf(Locale.ROOT, "%n%6s %3s %12s %12s %12s %10s %10s%n", "n", "thr", "VectorSgemm", "netlibJava",
                "numpy", "vec/numpy", "vec/netlib");
        for (int t : threadCounts) {
            for (int n : sizes) {
                double v = median(results, "vector@" + t, n);
                double j = median(results, "netlib@" + t, n);
                double p = median(results, "numpy@" + t, n);
                System.out.printf(Locale.ROOT, "%6d %3d %12s %12s %12s %10s %10s%n", n, t, fmt(v), fmt(j), fmt(p),
                        ratio(v, p), ratio(v, j));
            }
        }
        System.out.println();
        for (int n : sizes) {
            double v1 = median(results, "vector@1", n);
            double v2 = median(results, "vector@2", n);
            double p1 = median(results, "numpy@1", n);
            double p2 = median(results, "numpy@2", n);
            System.out.printf(Locale.ROOT, "n=%-5d 2 threads / 1 thread: VectorSgemm %s, numpy %s%n", n, ratio(v2, v1),
                    ratio(p2, p1));
        }
        System.out.println("(GFLOP/s, median of " + rounds + " rounds; each round's figure is the median of " + RUNS
                + " timed runs of >= " + RUN_SECONDS + " s after warm-up)");
    }

    // ---------------------------------------------------------------------------------------------

    private static List<String> runWorker(String who, int threads, String sizeList) throws IOException,
            InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        String extra = System.getProperty("bench.jvmArgs", "");
        if (who.equals("vector") && !extra.isBlank()) {
            cmd.addAll(Arrays.asList(extra.trim().split("\\s+")));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(VectorSgemmBench.class.getName());
        cmd.add("--worker");
        cmd.add(who);
        cmd.add(Integer.toString(threads));
        cmd.add(sizeList);
        return run(new ProcessBuilder(cmd));
    }

    private static List<String> runNumpy(int threads, String sizeList) throws IOException, InterruptedException {
        String script = String.join("\n",
                "import numpy as np, time, sys",
                "libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l})",
                "print('# numpy', np.__version__, 'BLAS:', ' '.join(libs) or '?')",
                "for n in [" + sizeList + "]:",
                "    rng = np.random.default_rng(1)",
                "    a = rng.standard_normal((n, n), dtype=np.float32); b = rng.standard_normal((n, n), dtype=np.float32)",
                "    c = a @ b; t0 = time.perf_counter(); c = a @ b; one = time.perf_counter() - t0",
                "    reps = max(1, int(" + RUN_SECONDS + " / max(one, 1e-7)))",
                "    w = time.perf_counter()",
                "    while time.perf_counter() - w < 0.3: c = a @ b",
                "    runs = []",
                "    for r in range(" + RUNS + "):",
                "        t0 = time.perf_counter()",
                "        for i in range(reps): c = a @ b",
                "        runs.append(2.0 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9)",
                "    runs.sort(); print(n, '%.2f' % runs[len(runs) // 2]); sys.stdout.flush()");
        ProcessBuilder pb = new ProcessBuilder(System.getProperty("bench.python", "/usr/bin/python3"), "-c", script);
        pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        String libs = System.getProperty("bench.pythonLibraryPath");
        if (libs != null) {
            pb.environment().put("LD_LIBRARY_PATH", libs);
        }
        return run(pb);
    }

    private static List<String> run(ProcessBuilder pb) throws IOException, InterruptedException {
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("WARNING: Using incubator modules")) {
                    continue;
                }
                lines.add(line);
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(pb.command().get(0) + " exited with " + rc + ": " + lines);
        }
        return lines;
    }

    // ---------------------------------------------------------------------------------------------

    /** One contender in this process: prints a comment line, then "n GFLOP/s" per size. */
    private static void worker(String who, int threads, int[] sizes) throws Exception {
        ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1, r -> {
            Thread th = new Thread(r, "sgemm-bench");
            th.setDaemon(true);
            return th;
        }) : null;
        Product product;
        if (who.equals("vector")) {
            System.out.println("# " + VectorSgemm.describe() + ", " + threads + " thread(s)");
            product = (n, a, b, c) -> VectorSgemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n,
                    pool, threads);
        } else {
            dev.ludovic.netlib.blas.BLAS blas = dev.ludovic.netlib.blas.JavaBLAS.getInstance();
            System.out.println("# " + blas.getClass().getName());
            // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ.
            product = (n, a, b, c) -> blas.sgemm("N", "N", n, n, n, 1f, b, 0, n, a, 0, n, 0f, c, 0, n);
        }
        // For tuning on a shared machine: per-thread CPU time instead of wall time (1 thread only).
        boolean cpuTime = Boolean.getBoolean("bench.cpuTime") && threads == 1;
        if (cpuTime) {
            System.out.println("# timed by thread CPU time, not wall time");
        }
        // JIT warm-up on a mid size, so that the first measured size is not timing the compiler.
        warm(product, 256, 1.5);
        double worst = 0;
        for (int n : sizes) {
            Random rnd = new Random(n);
            float[] a = randn(rnd, n * n);
            float[] b = randn(rnd, n * n);
            float[] c = new float[n * n];
            product.run(n, a, b, c);
            worst = Math.max(worst, spotCheck(rnd, n, a, b, c));
            long t0 = System.nanoTime();
            product.run(n, a, b, c);
            double one = Math.max(1e-7, (System.nanoTime() - t0) / 1e9);
            int reps = (int) Math.max(1, RUN_SECONDS / one);
            warmFor(product, n, a, b, c, 0.3);
            double[] runs = new double[RUNS];
            for (int r = 0; r < RUNS; r++) {
                long t = clock(cpuTime);
                for (int i = 0; i < reps; i++) {
                    product.run(n, a, b, c);
                }
                runs[r] = 2.0 * n * n * n * reps / ((clock(cpuTime) - t) / 1e9) / 1e9;
            }
            Arrays.sort(runs);
            System.out.printf(Locale.ROOT, "%d %.2f%n", n, runs[RUNS / 2]);
            System.out.flush();
        }
        System.out.printf(Locale.ROOT, "# correctness: max relative error of 64 sampled elements %.2e%n", worst);
        if (pool != null) {
            pool.shutdown();
        }
    }

    private static long clock(boolean cpuTime) {
        return cpuTime ? java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime()
                : System.nanoTime();
    }

    private interface Product {
        void run(int n, float[] a, float[] b, float[] c);
    }

    private static void warm(Product product, int n, double seconds) {
        Random rnd = new Random(7);
        warmFor(product, n, randn(rnd, n * n), randn(rnd, n * n), new float[n * n], seconds);
    }

    private static void warmFor(Product product, int n, float[] a, float[] b, float[] c, double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            product.run(n, a, b, c);
        } while (System.nanoTime() < end);
    }

    /** Relative error of sampled elements against a double-precision dot product; throws if it is wrong. */
    private static double spotCheck(Random rnd, int n, float[] a, float[] b, float[] c) {
        double worst = 0;
        for (int s = 0; s < 64; s++) {
            int i = rnd.nextInt(n);
            int j = rnd.nextInt(n);
            double dot = 0;
            double abs = 0;
            for (int p = 0; p < n; p++) {
                dot += (double) a[i * n + p] * b[p * n + j];
                abs += Math.abs((double) a[i * n + p] * b[p * n + j]);
            }
            double err = Math.abs(c[i * n + j] - dot) / abs;
            if (!(err <= (n + 2) * 0x1p-24)) {
                throw new IllegalStateException("wrong product at n=" + n + " (" + i + "," + j + "): " + c[i * n + j]
                        + " vs " + dot);
            }
            worst = Math.max(worst, err);
        }
        return worst;
    }

    private static float[] randn(Random rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static int[] sizes(String list) {
        return Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    private static double median(Map<String, Map<Integer, List<Double>>> results, String key, int n) {
        Map<Integer, List<Double>> m = results.get(key);
        if (m == null || m.get(n) == null || m.get(n).isEmpty()) {
            return Double.NaN;
        }
        double[] v = m.get(n).stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String fmt(double x) {
        return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.1f", x);
    }

    private static String ratio(double x, double y) {
        return Double.isNaN(x) || Double.isNaN(y) ? "-" : String.format(Locale.ROOT, "%.2f", x / y);
    }
}
