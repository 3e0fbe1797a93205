package io.sparkgrad.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * The Sparkgrad half of {@code scripts/bench-vs-pytorch.sh}: runs named workloads with warm-up and
 * prints, per workload, a tab-separated line {@code name median_us mean_us reps}.
 * Usage: {@code Compare WORKLOAD...} where a workload is {@code sgemm:N}, {@code ew:OP:SIZE},
 * {@code tutorial}, {@code mlp:BATCH}, {@code fmnist-mlp-epoch[:RUNS]}, {@code fmnist-cnn-epoch[:RUNS]}.
 */
public final class Compare {
    private Compare() {
    }

    public static void main(String[] args) {
        for (String spec : args) {
            Workloads.Workload w = parse(spec);
            double[] times = w instanceof Workloads.Repeated ? measureRuns((Workloads.Repeated) w) : measure(w);
            w.check();
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            double median = sorted[sorted.length / 2];
            double mean = Arrays.stream(times).average().orElse(Double.NaN);
            System.out.printf(Locale.ROOT, "%s\t%.3f\t%.3f\t%d%n", spec, median, mean, times.length);
        }
    }

    static Workloads.Workload parse(String spec) {
        String[] p = spec.split(":");
        switch (p[0]) {
            case "sgemm": return Workloads.sgemm(Integer.parseInt(p[1]));
            case "ew": return Workloads.elementwise(p[1], Integer.parseInt(p[2]));
            case "tutorial": return Workloads.tutorialGraph();
            case "mlp": return Workloads.mlpStep(Integer.parseInt(p[1]));
            case "fmnist-mlp-epoch": return Workloads.fashionMnistEpoch("mlp", p.length > 1 ? Integer.parseInt(p[1]) : 5);
            case "fmnist-cnn-epoch": return Workloads.fashionMnistEpoch("cnn", p.length > 1 ? Integer.parseInt(p[1]) : 3);
            default: throw new IllegalArgumentException("unknown workload " + spec);
        }
    }

    /**
     * Times batches of calls: warm up for about five seconds (so the JIT has compiled the hot paths),
     * then take about 40 samples, each long enough (>= 5 ms) that the clock's resolution does not matter.
     */
    static double[] measure(Workloads.Workload w) {
        long warmEnd = System.nanoTime() + 5_000_000_000L;
        int calls = 0;
        while (System.nanoTime() < warmEnd) {
            w.run();
            calls++;
        }
        long t0 = System.nanoTime();
        w.run();
        long one = Math.max(1, System.nanoTime() - t0);
        int perSample = (int) Math.max(1, Math.min(1_000_000, 5_000_000L / one));
        int samples = 40;
        double[] us = new double[samples];
        for (int s = 0; s < samples; s++) {
            long start = System.nanoTime();
            for (int i = 0; i < perSample; i++) {
                w.run();
            }
            us[s] = (System.nanoTime() - start) / 1000.0 / perSample;
        }
        return us;
    }

    /** Times whole runs of a long workload (a training epoch): its warm-up runs, then one sample per run. */
    static double[] measureRuns(Workloads.Repeated w) {
        for (int i = 0; i < w.warmups(); i++) {
            w.run();
        }
        double[] us = new double[w.runs()];
        for (int s = 0; s < us.length; s++) {
            long start = System.nanoTime();
            w.run();
            us[s] = (System.nanoTime() - start) / 1000.0;
        }
        return us;
    }
}
