package io.sparkgrad.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Elementwise ops and reductions over 1M–16M float32 values. */
@State(Scope.Benchmark)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ElementwiseBenchmark {
    @Param({"add", "mul", "exp", "tanh", "sigmoid", "relu", "sum", "max"})
    public String op;

    @Param({"1048576", "16777216"})
    public int size;

    private Workloads.Workload workload;

    @Setup
    public void setUp() {
        workload = Workloads.elementwise(op, size);
    }

    @Benchmark
    public void run() {
        workload.run();
    }
}
