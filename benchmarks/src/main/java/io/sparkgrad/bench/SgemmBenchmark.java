package io.sparkgrad.bench;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Float32 matrix product n×n·n×n; run with {@code -p threads=1,2} (engine threads via sparkgrad.threads). */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SgemmBenchmark {
    @Param({"128", "256", "512", "1024", "2048"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    private Tensor a;
    private Tensor b;

    @Setup
    public void setUp() {
        io.sparkgrad.Sparkgrad.setThreads(threads);
        Generator g = new Generator(1);
        a = Tensor.randn(DType.FLOAT32, g, n, n);
        b = Tensor.randn(DType.FLOAT32, g, n, n);
    }

    @Benchmark
    public Tensor sgemm() {
        return a.matmul(b);
    }
}
