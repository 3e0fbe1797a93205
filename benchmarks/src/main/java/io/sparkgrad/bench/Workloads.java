package io.sparkgrad.bench;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.data.DataLoader;
import io.sparkgrad.examples.FashionMnist;
import io.sparkgrad.functional.F;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.optim.SGD;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;


/**
 * The workloads that are measured, shared by the JMH benchmarks and by the side-by-side harness
 * ({@link Compare}) so both time exactly the same code. {@code scripts/bench_pytorch.py} mirrors
 * each one in PyTorch, line for line.
 */
public final class Workloads {
    private Workloads() {
    }

    /** One measurable operation; {@link #check()} verifies the output so a fast wrong answer cannot win. */
    public interface Workload {
        void run();

        default void check() {
        }
    }

    /** C = A·B for random n×n float32 matrices. */
    public static Workload sgemm(int n) {
        Generator g = new Generator(1);
        Tensor a = Tensor.randn(DType.FLOAT32, g, n, n);
        Tensor b = Tensor.randn(DType.FLOAT32, g, n, n);
        return new Workload() {
            Tensor c;

            @Override
            public void run() {
                c = a.matmul(b);
            }

            @Override
            public void check() {
                // One entry against a double-precision dot product.
                double ref = 0;
                for (int k = 0; k < n; k++) {
                    ref += a.get(n - 1, k) * b.get(k, 0);
                }
                double got = c.get(n - 1, 0);
                if (Math.abs(ref - got) > 1e-3 * Math.sqrt(n) * 4) {
                    throw new AssertionError("sgemm n=" + n + ": got " + got + ", expected " + ref);
                }
            }
        };
    }

    /** An elementwise op or reduction over {@code size} float32 values. */
    public static Workload elementwise(String op, int size) {
        Generator g = new Generator(2);
        Tensor x = Tensor.randn(DType.FLOAT32, g, size);
        Tensor y = Tensor.randn(DType.FLOAT32, g, size);
        Runnable r;
        switch (op) {
            case "add": r = () -> x.add(y); break;
            case "mul": r = () -> x.mul(y); break;
            case "exp": r = () -> x.exp(); break;
            case "tanh": r = () -> x.tanh(); break;
            case "sigmoid": r = () -> x.sigmoid(); break;
            case "relu": r = () -> x.relu(); break;
            case "sum": r = () -> x.sum(); break;
            case "max": r = () -> x.max(); break;
            default: throw new IllegalArgumentException("unknown elementwise op " + op);
        }
        return r::run;
    }

    /** The tutorial's graph: forward, BCE-with-logits loss, backward, zero the grads. */
    public static Workload tutorialGraph() {
        Tensor.manualSeed(0);
        Tensor x = Tensor.ones(5);
        Tensor y = Tensor.zeros(3);
        Tensor w = Tensor.randn(5, 3).requiresGrad_();
        Tensor b = Tensor.randn(3).requiresGrad_();
        return () -> {
            Tensor loss = F.binaryCrossEntropyWithLogits(x.matmul(w).add(b), y);
            loss.backward();
            w.grad().zero_();
            b.grad().zero_();
        };
    }

    /**
     * One training step of an MLP 784-256-128-10 with ReLU, written as a PyTorch user writes it:
     * nn.Sequential of Linear layers, SGD; zero grads, forward, cross-entropy, backward, step.
     */
    public static Workload mlpStep(int batch) {
        Generator g = new Generator(3);
        Sequential model = new Sequential(new Linear(784, 256, true, g), new ReLU(),
                new Linear(256, 128, true, g), new ReLU(), new Linear(128, 10, true, g));
        SGD opt = new SGD(model.parameters(), 0.01);
        Tensor x = Tensor.randn(DType.FLOAT32, g, batch, 784);
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = g.nextInt(10);
        }
        Tensor target = Tensor.of(labels, batch);
        return new Workload() {
            double lastLoss = Double.NaN;

            @Override
            public void run() {
                opt.zeroGrad();
                Tensor loss = F.crossEntropy(model.forward(x), target);
                loss.backward();
                opt.step();
                lastLoss = loss.item();
            }

            @Override
            public void check() {
                if (!(lastLoss > 0 && lastLoss < 10)) {
                    throw new AssertionError("mlp step: implausible loss " + lastLoss);
                }
            }
        };
    }

    /**
     * A workload timed in whole runs rather than in batches of calls: {@link Compare} runs it
     * {@link #warmups()} times, then times {@link #runs()} single calls.
     */
    public interface Repeated extends Workload {
        int warmups();

        int runs();
    }

    /** Where the Fashion-MNIST IDX files are: {@code $SPARKGRAD_FMNIST_DIR}, else Debian's location. */
    static Path fashionMnistDir() {
        String dir = System.getenv("SPARKGRAD_FMNIST_DIR");
        return dir == null || dir.isEmpty() ? FashionMnist.DEFAULT_DATA : Path.of(dir);
    }

    /**
     * One training epoch of {@code examples.FashionMnist} over the 60,000 Fashion-MNIST training
     * images: the example's own model ({@code "mlp"} or {@code "cnn"}), optimizer (SGD, momentum
     * 0.9, its learning rate), seeded shuffling loader (batch 128) and loop
     * ({@link FashionMnist#trainEpoch}): per batch, forward, cross-entropy, zeroed gradients,
     * backward, SGD step. Every call trains the next epoch of the same model; the check asks that
     * the last epoch's mean loss be that of a model that has learned (below 0.6; chance is 2.3).
     */
    public static Repeated fashionMnistEpoch(String model, int runs) {
        FashionMnist.Config config = FashionMnist.Config.parse(model);
        FashionMnist.Split train;
        try {
            train = FashionMnist.load(fashionMnistDir(), "train", 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Sequential net = config.arch.build(new Generator(config.seed));
        Optimizer opt = FashionMnist.optimizer(config, net);
        DataLoader loader = FashionMnist.loader(config, train);
        return new Repeated() {
            int epoch;
            double lastLoss = Double.NaN;

            @Override
            public void run() {
                lastLoss = FashionMnist.trainEpoch(net, opt, loader, epoch++);
            }

            @Override
            public int warmups() {
                return 1;
            }

            @Override
            public int runs() {
                return runs;
            }

            @Override
            public void check() {
                if (!(lastLoss > 0 && lastLoss < 0.6)) {
                    throw new AssertionError("fmnist " + model + " epoch " + epoch + ": implausible mean loss " + lastLoss);
                }
            }
        };
    }
}
