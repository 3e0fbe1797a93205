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
 * threads, next to netlib's pure-Java BLAS (1 thread; it has no threads) and numpy in the same run.
 * Each contender runs in its own process, one after the other in every round, and the table shows
 * the median over rounds. Separate JVMs also keep the comparison fair: two Vector API libraries
 * with different species in one JVM slow each other down (see VectorSgemm).
 * <pre>
 * mvn -q -o -pl engine test-compile
 * mvn -q -o -pl engine dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java --add-modules jdk.incubator.vector -cp engine/target/classes:engine/target/test-classes:$(cat /tmp/cp.txt) \
 *      io.sparkgrad.backend.VectorSgemmBench [rounds]
 * </pre>
 * System properties:
 * <ul>
 * <li>{@code bench.sizes}: default 128,256,512,1024,2048;
 * <li>{@code bench.numpy}: the numpy builds to run, {@code label|python[|LD_LIBRARY_PATH]} separated
 * by {@code ;}, default {@code numpy|/usr/bin/python3}. Debian's numpy takes its BLAS from
 * {@code libblas.so.3}; a directory holding OpenBLAS's {@code libblas.so.3} as LD_LIBRARY_PATH
 * makes it use OpenBLAS without changing the system. The first line of the output names the BLAS
 * library each numpy process really loaded. The first build is the one ratios are taken against;
 * <li>{@code bench.jvmArgs}: extra options for the VectorSgemm workers, e.g.
 * {@code -Dsparkgrad.sgemm.bits=256};
 * <li>{@code bench.cpuTime=true}: time the 1-thread runs (VectorSgemm, netlib and numpy alike) by
 * the calling thread's CPU time instead of wall time: on a shared, overloaded machine this still
 * compares the code, where wall time mostly measures the scheduler.
 * </ul>
 */
public final class VectorSgemmBench {
    private static final double RUN_SECONDS = 0.15;
    private static final int RUNS = 7;

    private VectorSgemmBench() {
    }

    /** One contender: how to run it and at which thread counts. */
    private static final class Contender {
        final String label;
        final String python; // null for a JVM worker
        final String libraryPath;

        Contender(String label, String python, String libraryPath) {
            this.label = label;
            this.python = python;
            this.libraryPath = libraryPath;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--worker")) {
            worker(args[1], Integer.parseInt(args[2]), sizes(args[3]));
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        String sizeList = System.getProperty("bench.sizes", "128,256,512,1024,2048");
        int[] sizes = sizes(sizeList);
        List<Contender> contenders = new ArrayList<>();
        contenders.add(new Contender("VectorSgemm", null, null));
        contenders.add(new Contender("netlibJava", null, null));
        for (String spec : System.getProperty("bench.numpy", "numpy|/usr/bin/python3").split(";")) {
            String[] f = spec.trim().split("\\|");
            contenders.add(new Contender(f[0], f[1], f.length > 2 ? f[2] : null));
        }
        List<Contender> numpys = contenders.subList(2, contenders.size());
        int[] threadCounts = {1, 2};
        // label@threads -> n -> one figure per round
        Map<String, Map<Integer, List<Double>>> results = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            for (int t : threadCounts) {
                for (Contender who : contenders) {
                    if (who.label.equals("netlibJava") && t > 1) {
                        continue;
                    }
                    List<String> lines = who.python != null ? runNumpy(who, t, sizeList)
                            : runWorker(who.label.equals("VectorSgemm") ? "vector" : "netlib", t, sizeList);
                    for (String line : lines) {
                        if (line.startsWith("#")) {
                            if (round == 0) {
                                notes.add(who.label + " t=" + t + ": " + line.substring(1).trim());
                            }
                            continue;
                        }
                        String[] f = line.trim().split("\\s+");
                        if (f.length == 2) {
                            results.computeIfAbsent(who.label + "@" + t, x -> new LinkedHashMap<>())
                                    .computeIfAbsent(Integer.parseInt(f[0]), x -> new ArrayList<>())
                                    .add(Double.parseDouble(f[1]));
                        }
                    }
                }
            }
            System.err.printf(Locale.ROOT, "round %d of %d done (%.0f s)%n", round + 1, rounds,
                    (System.nanoTime() - start) / 1e9);
        }
        notes.forEach(s -> System.out.println("# " + s));
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%n%6s %3s", "n", "thr"));
        for (Contender c : contenders) {
            head.append(String.format(Locale.ROOT, " %12s", c.label));
        }
        for (Contender c : numpys) {
            head.append(String.format(Locale.ROOT, " %14s", "vec/" + c.label));
        }
        head.append(String.format(Locale.ROOT, " %11s", "vec/netlib"));
        System.out.println(head);
        for (int t : threadCounts) {
            for (int n : sizes) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%6d %3d", n, t));
                for (Contender c : contenders) {
                    row.append(String.format(Locale.ROOT, " %12s", fmt(median(results, c.label + "@" + t, n))));
                }
                double v = median(results, "VectorSgemm@" + t, n);
                for (Contender c : numpys) {
                    row.append(String.format(Locale.ROOT, " %14s", ratio(v, median(results, c.label + "@" + t, n))));
                }
                row.append(String.format(Locale.ROOT, " %11s", ratio(v, median(results, "netlibJava@" + t, n))));
                System.out.println(row);
            }
        }
        System.out.println();
        for (int n : sizes) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "n=%-5d 2 threads / 1 thread:", n));
            for (Contender c : contenders) {
                if (!c.label.equals("netlibJava")) {
                    row.append(String.format(Locale.ROOT, " %s %s", c.label,
                            ratio(median(results, c.label + "@2", n), median(results, c.label + "@1", n))));
                }
            }
            System.out.println(row);
        }
        System.out.println("(GFLOP/s, median of " + rounds + " rounds; a round's figure is the median of " + RUNS
                + " timed runs of >= " + RUN_SECONDS + " s after warm-up, or of 3 single products when one"
                + " takes over a second)");
    }

    // ---------------------------------------------------------------------------------------------

    private static List<String> runWorker(String who, int threads, String sizeList) throws IOException,
            InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Dbench.cpuTime=" + Boolean.getBoolean("bench.cpuTime"));
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

    private static List<String> runNumpy(Contender who, int threads, String sizeList) throws IOException,
            InterruptedException {
        // With bench.cpuTime, 1-thread numpy is timed by the calling thread's CPU time too: with one
        // thread OpenBLAS computes on the calling thread.
        boolean cpuTime = Boolean.getBoolean("bench.cpuTime") && threads == 1;
        String script = String.join("\n",
                "import numpy as np, time, sys",
                "clock = time." + (cpuTime ? "thread_time" : "perf_counter"),
                cpuTime ? "print('# timed by thread CPU time, not wall time')" : "",
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
                "    for r in range(3 if one > 1 else " + RUNS + "):",
                "        t0 = clock()",
                "        for i in range(reps): c = a @ b",
                "        runs.append(2.0 * n ** 3 * reps / (clock() - t0) / 1e9)",
                "    runs.sort(); print(n, '%.2f' % runs[len(runs) // 2]); sys.stdout.flush()");
        ProcessBuilder pb = new ProcessBuilder(who.python, "-c", script);
        pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        if (who.libraryPath != null) {
            pb.environment().put("LD_LIBRARY_PATH", who.libraryPath);
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
        // JIT warm-up until the speed settles, so that no measured size times the compiler: on a
        // loaded machine C2 can take seconds to compile the micro-kernel, and until then the Vector
        // API runs its Java fallback, 50-1000× slower. n = 620 takes every branch the measured sizes
        // take (edge tiles both ways, k > KC): a branch first taken later recompiles the kernel.
        warmUntilSteady(product, 620);
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
            int runCount = one > 1 ? 3 : RUNS; // netlib's Java path past ~1290³ takes seconds per product
            if (one <= 1) {
                warmFor(product, n, a, b, c, 0.3);
            }
            double[] runs = new double[runCount];
            for (int r = 0; r < runCount; r++) {
                long t = clock(cpuTime);
                for (int i = 0; i < reps; i++) {
                    product.run(n, a, b, c);
                }
                runs[r] = 2.0 * n * n * n * reps / ((clock(cpuTime) - t) / 1e9) / 1e9;
            }
            Arrays.sort(runs);
            System.out.printf(Locale.ROOT, "%d %.2f%n", n, runs[runCount / 2]);
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

    private static void warmUntilSteady(Product product, int n) {
        Random rnd = new Random(7);
        float[] a = randn(rnd, n * n);
        float[] b = randn(rnd, n * n);
        float[] c = new float[n * n];
        long start = System.nanoTime();
        double previous = 0;
        while (true) {
            long t = System.nanoTime();
            int count = 0;
            do {
                product.run(n, a, b, c);
                count++;
            } while (System.nanoTime() - t < 500_000_000L);
            double rate = count / ((System.nanoTime() - t) / 1e9);
            double elapsed = (System.nanoTime() - start) / 1e9;
            if ((elapsed >= 1.5 && Math.abs(rate - previous) <= 0.05 * rate) || elapsed > 30) {
                System.out.printf(Locale.ROOT, "# warm-up %.1f s%n", elapsed);
                return;
            }
            previous = rate;
        }
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
