package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The float32 fast paths (Vector API kernels, ops split across threads, fused kernels) against the
 * same op computed in float64 on the same values: the gradient checks run in float64 and never
 * reach these paths. Sizes are chosen to leave vector tails and to exceed the parallel grain.
 */
class Float32PathsTest {
    private static final int[][] SHAPES = {{7}, {33}, {1000}, {70_001}, {3, 5}, {129, 257}, {300, 517}};

    private static Tensor random(Generator g, int... shape) {
        return Tensor.randn(DType.FLOAT32, g, shape);
    }

    private static void assertClose(Tensor f32, Tensor f64, double rtol, double atol, String what) {
        assertEquals(DType.FLOAT32, f32.dtype(), what);
        double[] a = f32.toDoubleArray();
        double[] b = f64.toDoubleArray();
        assertEquals(b.length, a.length, what);
        for (int i = 0; i < a.length; i++) {
            double tol = atol + rtol * Math.abs(b[i]);
            if (!(Math.abs(a[i] - b[i]) <= tol)) {
                throw new AssertionError(what + ": element " + i + " float32 " + a[i] + " vs float64 " + b[i]);
            }
        }
    }

    @Test
    void theVectorApiIsInUseInTheseTests() {
        assertNotNull(VectorKernels.INSTANCE, "surefire starts the JVM with --add-modules jdk.incubator.vector");
    }

    @TestFactory
    List<DynamicTest> unaryOps() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Object[]> ops = List.of(
                new Object[] {"exp", (Function<Tensor, Tensor>) Tensor::exp},
                new Object[] {"tanh", (Function<Tensor, Tensor>) Tensor::tanh},
                new Object[] {"sigmoid", (Function<Tensor, Tensor>) Tensor::sigmoid},
                new Object[] {"relu", (Function<Tensor, Tensor>) Tensor::relu},
                new Object[] {"neg", (Function<Tensor, Tensor>) Tensor::neg},
                new Object[] {"log(|x|+0.1)", (Function<Tensor, Tensor>) t -> t.abs().add(0.1).log()},
                new Object[] {"softmax(-1)", (Function<Tensor, Tensor>) t -> t.softmax(-1)},
                new Object[] {"logSoftmax(-1)", (Function<Tensor, Tensor>) t -> t.logSoftmax(-1)},
                new Object[] {"softmax(0)", (Function<Tensor, Tensor>) t -> t.softmax(0)});
        for (int[] shape : SHAPES) {
            for (Object[] op : ops) {
                @SuppressWarnings("unchecked")
                Function<Tensor, Tensor> f = (Function<Tensor, Tensor>) op[1];
                tests.add(DynamicTest.dynamicTest(op[0] + " " + java.util.Arrays.toString(shape), () -> {
                    Tensor x = random(new Generator(shape.length * 31L + shape[0]), shape);
                    assertClose(f.apply(x), f.apply(x.to(DType.FLOAT64)), 2e-6, 1e-6, (String) op[0]);
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> binaryOpsWithBroadcasting() {
        List<DynamicTest> tests = new ArrayList<>();
        int[][][] pairs = {
            {{70_001}, {70_001}}, {{70_001}, {}}, {{}, {70_001}}, {{129, 257}, {257}}, {{129, 257}, {129, 1}},
            {{300, 517}, {300, 517}}, {{33}, {1}}, {{3, 5}, {5}}};
        String[] names = {"add", "sub", "mul", "div"};
        for (int[][] pair : pairs) {
            for (String name : names) {
                tests.add(DynamicTest.dynamicTest(name + " " + java.util.Arrays.deepToString(pair), () -> {
                    Generator g = new Generator(pair[0].length * 7L + pair[1].length);
                    Tensor a = random(g, pair[0]);
                    Tensor b = random(g, pair[1]).abs().add(0.5);
                    Function<Tensor[], Tensor> f = t -> {
                        switch (name) {
                            case "add": return t[0].add(t[1]);
                            case "sub": return t[0].sub(t[1]);
                            case "mul": return t[0].mul(t[1]);
                            default: return t[0].div(t[1]);
                        }
                    };
                    assertClose(f.apply(new Tensor[] {a, b}),
                            f.apply(new Tensor[] {a.to(DType.FLOAT64), b.to(DType.FLOAT64)}), 1e-6, 1e-6, name);
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> reductions() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] shape : SHAPES) {
            tests.add(DynamicTest.dynamicTest("sum/max/mean " + java.util.Arrays.toString(shape), () -> {
                Tensor x = random(new Generator(shape[0]), shape);
                Tensor d = x.to(DType.FLOAT64);
                assertClose(x.sum(), d.sum(), 1e-5, 1e-3, "sum");
                assertClose(x.max(), d.max(), 0, 0, "max");
                assertClose(x.mean(0), d.mean(0), 1e-5, 1e-5, "mean(0)");
                assertClose(x.sum(-1), d.sum(-1), 1e-5, 1e-4, "sum(-1)");
                if (shape.length == 2) {
                    assertClose(x.sum(0), d.sum(0), 1e-5, 1e-4, "sum(0): the bias-gradient path");
                    assertClose(x.t().sum(0), d.t().sum(0), 1e-5, 1e-4, "sum(0) of a transposed view");
                }
            }));
        }
        return tests;
    }

    @Test
    void theSumDoesNotDependOnTheThreadCount() {
        Tensor x = random(new Generator(5), 1_000_003);
        int before = io.sparkgrad.Sparkgrad.threads();
        try {
            io.sparkgrad.Sparkgrad.setThreads(1);
            double one = x.sum().item();
            io.sparkgrad.Sparkgrad.setThreads(2);
            assertEquals(one, x.sum().item(), 0.0);
            io.sparkgrad.Sparkgrad.setThreads(3);
            assertEquals(one, x.sum().item(), 0.0);
        } finally {
            io.sparkgrad.Sparkgrad.setThreads(before);
        }
    }

    @Test
    void fusedReluBackwardEqualsTheComposedForm() {
        Generator g = new Generator(9);
        Tensor x = random(g, 129, 257).requiresGrad_();
        Tensor up = random(g, 129, 257);
        x.relu().backward(up);
        double[] xv = x.toDoubleArray();
        double[] uv = up.toDoubleArray();
        double[] expected = new double[xv.length];
        for (int i = 0; i < xv.length; i++) {
            expected[i] = xv[i] > 0 ? uv[i] : 0;
        }
        assertClose(x.grad(), Tensor.of(expected, 129, 257), 0, 0, "relu backward");
    }

    @Test
    void inPlaceAxpyMatchesAddOfAScaledTensor() {
        Generator g = new Generator(11);
        Tensor y = random(g, 70_001);
        Tensor x = random(g, 70_001);
        Tensor expected = y.to(DType.FLOAT64).add(x.to(DType.FLOAT64).mul(-0.25));
        y.add_(x, -0.25);
        assertClose(y, expected, 1e-6, 1e-6, "add_(x, alpha)");
        assertEquals(1, y.version());
    }

    @Test
    void crossEntropyInFloat32MatchesFloat64() {
        Generator g = new Generator(13);
        Tensor logits = random(g, 256, 10).mul(3);
        long[] labels = new long[256];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = g.nextInt(10);
        }
        Tensor t = Tensor.of(labels, 256);
        assertClose(F.crossEntropy(logits, t), F.crossEntropy(logits.to(DType.FLOAT64), t), 1e-5, 1e-6, "cross-entropy");
        assertTrue(F.crossEntropy(logits, t).item() > 0);
    }
}
