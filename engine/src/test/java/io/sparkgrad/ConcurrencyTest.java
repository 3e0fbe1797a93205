package io.sparkgrad;

import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Spark runs many tasks in one executor JVM: independent graphs built and run on several threads
 * at once must give exactly what one thread gives, and one thread's no-grad scope must not leak.
 */
class ConcurrencyTest {
    private static final int THREADS = 8;
    private static final int STEPS = 30;

    /** A small MLP step on its own seeded data; returns the final parameters and the loss trace. */
    private static double[] train(int seed, boolean withNoGradNoise) {
        Generator gen = new Generator(seed);
        Tensor w1 = Tensor.randn(DType.FLOAT32, gen, 20, 16).mul(0.3).requiresGrad_();
        Tensor b1 = Tensor.zeros(16).requiresGrad_();
        Tensor w2 = Tensor.randn(DType.FLOAT32, gen, 16, 4).mul(0.3).requiresGrad_();
        Tensor x = Tensor.randn(DType.FLOAT32, gen, 32, 20);
        long[] labels = new long[32];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = gen.nextInt(4);
        }
        Tensor y = Tensor.of(labels, 32);
        List<Double> trace = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            Tensor loss = F.crossEntropy(x.matmul(w1).add(b1).relu().matmul(w2), y);
            loss.backward();
            trace.add(loss.item());
            try (var g = GradMode.noGrad()) {
                for (Tensor p : List.of(w1, b1, w2)) {
                    p.sub_(p.grad().mul(0.1));
                    p.grad().zero_();
                }
                if (withNoGradNoise) {
                    // This thread spends time in no-grad; other threads must keep recording.
                    x.matmul(w1).sum();
                }
            }
        }
        double[] out = new double[trace.size() + w2.numel()];
        for (int i = 0; i < trace.size(); i++) {
            out[i] = trace.get(i);
        }
        System.arraycopy(w2.toDoubleArray(), 0, out, trace.size(), w2.numel());
        return out;
    }

    @Test
    void parallelGraphsGiveTheSameResultsAsOneThread() throws Exception {
        double[][] expected = new double[THREADS][];
        for (int t = 0; t < THREADS; t++) {
            expected[t] = train(100 + t, false);
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<double[]>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = 100 + t;
                boolean noise = t % 2 == 0;
                Callable<double[]> job = () -> {
                    start.await();
                    return train(seed, noise);
                };
                results.add(pool.submit(job));
            }
            start.countDown();
            for (int t = 0; t < THREADS; t++) {
                assertArrayEquals(expected[t], results.get(t).get(), 0.0, "thread " + t);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void noGradInOneThreadDoesNotAffectAnother() throws Exception {
        CountDownLatch inScope = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (var g = GradMode.noGrad()) {
                inScope.countDown();
                checked.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        inScope.await();
        Tensor w = Tensor.ones(2).requiresGrad_();
        boolean recorded = w.mul(2).requiresGrad();
        checked.countDown();
        t.join();
        assertFalse(!recorded, "this thread must still record while another is in noGrad");
    }
}
