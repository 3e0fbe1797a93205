package io.sparkgrad.bench;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.opencl.ClOps;
import io.sparkgrad.backend.opencl.ClPlatforms;
import io.sparkgrad.functional.F;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.optim.SGD;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The OpenCL backend against the CPU backend: a float32 sgemm of n×n matrices and one training
 * step of the MLP 784-256-128-10 (the same model as {@link MlpStepBenchmark}), with the data,
 * parameters and gradients on {@code device}. Each call waits for the device to finish, so the
 * time is the whole operation, not its enqueueing. The OpenCL rows fail at setup, saying what to
 * install, on a machine without an OpenCL driver.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpenClBenchmark {
    /** Two n×n float32 matrices on the device. */
    @State(Scope.Benchmark)
    public static class Gemm {
        @Param({"cpu", "opencl:0"})
        public String device;

        @Param({"256", "512", "1024"})
        public int n;

        Device dev;
        Tensor a;
        Tensor b;

        @Setup
        public void setUp() {
            dev = open(device);
            Generator g = new Generator(3);
            a = Tensor.randn(DType.FLOAT32, g, n, n).to(dev);
            b = Tensor.randn(DType.FLOAT32, g, n, n).to(dev);
        }
    }

    /** The MLP, its optimizer and one batch, all on the device. */
    @State(Scope.Benchmark)
    public static class Mlp {
        @Param({"cpu", "opencl:0"})
        public String device;

        @Param({"128", "1024"})
        public int batch;

        Sequential model;
        SGD opt;
        Tensor x;
        Tensor target;

        @Setup
        public void setUp() {
            Device dev = open(device);
            Generator g = new Generator(3);
            model = new Sequential(new Linear(784, 256, true, g), new ReLU(),
                    new Linear(256, 128, true, g), new ReLU(), new Linear(128, 10, true, g));
            model.to(dev);
            opt = new SGD(model.parameters(), 0.01);
            x = Tensor.randn(DType.FLOAT32, g, batch, 784).to(dev);
            long[] labels = new long[batch];
            for (int i = 0; i < batch; i++) {
                labels[i] = g.nextInt(10);
            }
            target = Tensor.of(labels, batch).to(dev);
        }
    }

    static Device open(String name) {
        Device dev = Device.of(name);
        if (!dev.isCpu() && !ClPlatforms.available()) {
            throw new IllegalStateException("no OpenCL device: " + ClPlatforms.unavailableReason());
        }
        return dev;
    }

    @Benchmark
    public Tensor sgemm(Gemm s) {
        Tensor c = s.a.mm(s.b);
        if (!s.dev.isCpu()) {
            ClOps.finish(s.dev);
        }
        return c;
    }

    /** {@code loss.item()} waits for the device. */
    @Benchmark
    public double mlpStep(Mlp s) {
        s.opt.zeroGrad();
        Tensor loss = F.crossEntropy(s.model.forward(s.x), s.target);
        loss.backward();
        s.opt.step();
        return loss.item();
    }
}
