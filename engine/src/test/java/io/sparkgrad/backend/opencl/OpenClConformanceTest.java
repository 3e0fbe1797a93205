package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.ConvKernels;
import io.sparkgrad.backend.PoolKernels;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * The op conformance suite against the OpenCL backend: every case runs forward and backward on the
 * CPU and on {@code opencl:0} from the same seeded inputs, and the outputs and every input's
 * gradient must agree to float tolerance (float32 and float64). Inputs arrive in several layouts
 * (transposed, sliced with a step, broadcast) because the device kernels read views in place.
 */
class OpenClConformanceTest {
    private static final Device CL = OpenClAvailable.DEVICE;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    /** How one case builds its inputs from a generator, and what it computes. */
    private record Case(String name, Function<Generator, List<Tensor>> inputs, Function<List<Tensor>, Tensor> f) {
    }

    private static Function<Generator, List<Tensor>> normal(int[]... shapes) {
        return g -> {
            List<Tensor> out = new ArrayList<>();
            for (int[] s : shapes) {
                out.add(Tensor.randn(DType.FLOAT64, g, s));
            }
            return out;
        };
    }

    private static Function<Generator, List<Tensor>> positive(int[]... shapes) {
        return g -> {
            List<Tensor> out = new ArrayList<>();
            for (int[] s : shapes) {
                out.add(Tensor.uniform(0.5, 2.0, DType.FLOAT64, g, s));
            }
            return out;
        };
    }

    private static int[] s(int... shape) {
        return shape;
    }

    private static final Tensor LABELS = Tensor.of(new long[] {2, 0, 4, 1, 4, 3}, 6);

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        // elementwise, with broadcasting and views
        c.add(new Case("neg", normal(s(3, 5)), in -> in.get(0).neg()));
        c.add(new Case("exp", normal(s(3, 5)), in -> in.get(0).exp()));
        c.add(new Case("log", positive(s(4, 3)), in -> in.get(0).log()));
        c.add(new Case("sqrt", positive(s(4, 3)), in -> in.get(0).sqrt()));
        c.add(new Case("abs", normal(s(7)), in -> in.get(0).abs()));
        c.add(new Case("relu", normal(s(6, 4)), in -> in.get(0).relu()));
        c.add(new Case("sigmoid", normal(s(6, 4)), in -> in.get(0).sigmoid()));
        c.add(new Case("tanh", normal(s(6, 4)), in -> in.get(0).tanh()));
        c.add(new Case("pow(3)", normal(s(5)), in -> in.get(0).pow(3)));
        c.add(new Case("pow(tensor)", positive(s(2, 3), s(3)), in -> in.get(0).pow(in.get(1))));
        c.add(new Case("clamp", normal(s(4, 5)), in -> in.get(0).clamp(-0.5, 0.7)));
        c.add(new Case("clampMin", normal(s(4, 5)), in -> in.get(0).clampMin(0.1)));
        c.add(new Case("add broadcast", normal(s(4, 1, 3), s(5, 1)), in -> in.get(0).add(in.get(1))));
        c.add(new Case("sub transposed", normal(s(3, 4), s(4, 3)), in -> in.get(0).sub(in.get(1).t())));
        c.add(new Case("mul sliced", normal(s(6, 4), s(3, 4)), in -> in.get(0).slice(0, 0, 6, 2).mul(in.get(1))));
        c.add(new Case("div", normal(s(3, 4)).andThen(l -> List.of(l.get(0), l.get(0).abs().add(0.5).detach())),
                in -> in.get(0).div(in.get(1))));
        c.add(new Case("scalar ops", normal(s(3, 4)), in -> in.get(0).mul(2.5).add(1).rsub(3).div(0.7)));
        c.add(new Case("expand", normal(s(3, 1)), in -> in.get(0).expand(3, 4).mul(in.get(0))));
        c.add(new Case("where", normal(s(3, 4), s(3, 4)),
                in -> Tensor.where(in.get(0).detach().relu(), in.get(0), in.get(1))));
        // matrix products
        c.add(new Case("mm", normal(s(37, 45), s(45, 33)), in -> in.get(0).matmul(in.get(1))));
        c.add(new Case("mm over several tiles", normal(s(70, 130), s(130, 67)), in -> in.get(0).matmul(in.get(1))));
        c.add(new Case("mm transposed", normal(s(20, 30), s(17, 20)), in -> in.get(0).t().matmul(in.get(1).t())));
        c.add(new Case("bmm", normal(s(3, 9, 7), s(3, 7, 5)), in -> in.get(0).matmul(in.get(1))));
        c.add(new Case("mv", normal(s(6, 4), s(4)), in -> in.get(0).matmul(in.get(1))));
        c.add(new Case("dot", normal(s(9), s(9)), in -> in.get(0).matmul(in.get(1))));
        c.add(new Case("linear", normal(s(8, 5), s(3, 5), s(3)), in -> F.linear(in.get(0), in.get(1), in.get(2))));
        // reductions
        c.add(new Case("sum", normal(s(4, 5, 3)), in -> in.get(0).sum()));
        c.add(new Case("sum(dim 1)", normal(s(4, 5, 3)), in -> in.get(0).sum(1)));
        c.add(new Case("sum(dims 0,2 keep)", normal(s(4, 5, 3)), in -> in.get(0).sum(new int[] {0, 2}, true)));
        c.add(new Case("sum long row", normal(s(2, 1000)), in -> in.get(0).sum(1)));
        c.add(new Case("mean", normal(s(4, 5)), in -> in.get(0).mean(0)));
        c.add(new Case("max", normal(s(4, 5)), in -> in.get(0).max()));
        c.add(new Case("max(dim)", normal(s(4, 5)), in -> in.get(0).max(1, false)));
        c.add(new Case("amax", normal(s(4, 5, 2)), in -> in.get(0).amax(new int[] {0, 2}, true)));
        // softmax family and losses
        c.add(new Case("softmax(1)", normal(s(5, 7)), in -> in.get(0).softmax(1)));
        c.add(new Case("softmax(0)", normal(s(5, 7)), in -> in.get(0).softmax(0)));
        c.add(new Case("logSoftmax(1)", normal(s(5, 7)), in -> in.get(0).logSoftmax(1)));
        c.add(new Case("crossEntropy", normal(s(6, 5)), in -> F.crossEntropy(in.get(0), LABELS.to(in.get(0).device()))));
        c.add(new Case("crossEntropy weighted ignore", normal(s(6, 5), s(5)),
                in -> F.crossEntropy(in.get(0), LABELS.to(in.get(0).device()), in.get(1).abs().detach(), 4L,
                        Reduction.MEAN, 0.0)));
        c.add(new Case("nllLoss sum", normal(s(6, 5)),
                in -> F.nllLoss(in.get(0).logSoftmax(1), LABELS.to(in.get(0).device()), Reduction.SUM)));
        c.add(new Case("bceWithLogits", normal(s(4, 3), s(4, 3)),
                in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1).sigmoid())));
        c.add(new Case("bceWithLogits large", normal(s(40, 10), s(40, 10)),
                in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1).sigmoid(), Reduction.NONE)));
        c.add(new Case("mseLoss", normal(s(5, 3), s(5, 3)), in -> F.mseLoss(in.get(0), in.get(1))));
        c.add(new Case("l1Loss", normal(s(5, 3), s(5, 3)), in -> F.l1Loss(in.get(0), in.get(1))));
        c.add(new Case("huberLoss", normal(s(5, 3), s(5, 3)), in -> F.huberLoss(in.get(0), in.get(1))));
        // indexing and shape
        c.add(new Case("gather", normal(s(6, 5)),
                in -> in.get(0).gather(1, Tensor.of(new long[] {0, 4, 2, 2, 1, 3}, 6, 1).to(in.get(0).device()))));
        c.add(new Case("cat", normal(s(2, 3), s(4, 3)), in -> Tensor.cat(List.of(in.get(0), in.get(1)), 0)));
        c.add(new Case("stack", normal(s(2, 3), s(2, 3)), in -> Tensor.stack(List.of(in.get(0), in.get(1)), 1)));
        c.add(new Case("reshape permute", normal(s(2, 3, 4)), in -> in.get(0).permute(2, 0, 1).reshape(4, 6).exp()));
        c.add(new Case("indexSelect", normal(s(5, 4)),
                in -> in.get(0).indexSelect(0, Tensor.of(new long[] {4, 0, 0, 2}, 4).to(in.get(0).device()))));
        c.add(new Case("embedding padding", normal(s(6, 3)),
                in -> F.embedding(Tensor.of(new long[] {1, 5, 1, 0, 2, 1}, 2, 3).to(in.get(0).device()), in.get(0), 1)));
        c.add(new Case("dropout", normal(s(8, 5)), in -> F.dropout(in.get(0), 0.4, true, new Generator(99))));
        c.add(new Case("batchNorm", normal(s(6, 3, 2), s(3), s(3)),
                in -> F.batchNorm(in.get(0), null, null, in.get(1), in.get(2), true, 0.1, 1e-5)));
        c.add(new Case("avgPool2d", normal(s(2, 2, 6, 6)), in -> F.avgPool2d(in.get(0), 2)));
        c.add(new Case("maxPool2d(2)", normal(s(2, 3, 6, 8)), in -> F.maxPool2d(in.get(0), 2)));
        c.add(new Case("maxPool2d odd size", normal(s(2, 2, 7, 5)), in -> F.maxPool2d(in.get(0), 2)));
        c.add(new Case("maxPool2d overlapping padded", normal(s(2, 2, 7, 6)),
                in -> F.maxPool2d(in.get(0), new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1})));
        c.add(new Case("maxPool2d stride 1 rectangular", normal(s(1, 3, 5, 6)),
                in -> F.maxPool2d(in.get(0), new int[] {3, 2}, new int[] {1, 2}, new int[] {1, 0})));
        c.add(new Case("maxPool2d of a permuted view", normal(s(2, 6, 5, 3)),
                in -> F.maxPool2d(in.get(0).permute(0, 3, 2, 1), new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 0})));
        // Values clamped to +-0.3 (but the gradient passed straight through) tie in most windows: the
        // gradient must reach the first maximum on both devices.
        c.add(new Case("maxPool2d ties", normal(s(2, 2, 6, 6)),
                in -> F.maxPool2d(in.get(0).sub(in.get(0).detach()).add(in.get(0).detach().clamp(-0.3, 0.3)),
                        new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1})));
        // log of a normal sample is NaN for half the values: a NaN wins its window on both devices
        c.add(new Case("maxPool2d NaN wins", normal(s(1, 2, 6, 6)), in -> F.maxPool2d(in.get(0).log(), 2)));
        c.add(new Case("maxPool2d 3-d input", normal(s(2, 5, 4)), in -> F.maxPool2d(in.get(0), 2)));
        c.add(new Case("layerNorm", normal(s(4, 6), s(6), s(6)),
                in -> F.layerNorm(in.get(0), new int[] {6}, in.get(1), in.get(2), 1e-5)));
        // convolution (im2col + matmul)
        c.add(new Case("conv2d", normal(s(2, 3, 7, 6), s(4, 3, 3, 3), s(4)),
                in -> F.conv2d(in.get(0), in.get(1), in.get(2), new int[] {2, 1}, new int[] {1, 0})));
        c.add(new Case("unfold/fold", normal(s(1, 2, 5, 5)),
                in -> F.fold(F.unfold(in.get(0), new int[] {3, 3}, new int[] {1, 1}, new int[] {2, 2}),
                        new int[] {5, 5}, new int[] {3, 3}, new int[] {1, 1}, new int[] {2, 2})));
        return c;
    }

    @TestFactory
    List<DynamicTest> float64() {
        return run(DType.FLOAT64, 1e-9, 1e-9);
    }

    @TestFactory
    List<DynamicTest> float32() {
        return run(DType.FLOAT32, 2e-4, 1e-4);
    }

    private List<DynamicTest> run(DType dtype, double rtol, double atol) {
        List<DynamicTest> tests = new ArrayList<>();
        int seed = 0;
        for (Case c : cases()) {
            long caseSeed = 1000 + seed++;
            tests.add(dynamicTest(c.name() + " " + dtype, () -> check(c, dtype, caseSeed, rtol, atol)));
        }
        return tests;
    }

    private static void check(Case c, DType dtype, long seed, double rtol, double atol) {
        List<Tensor> base = c.inputs().apply(new Generator(seed));
        List<Tensor> onCpu = new ArrayList<>();
        List<Tensor> onCl = new ArrayList<>();
        for (Tensor t : base) {
            Tensor v = t.to(dtype);
            onCpu.add(v.detach().clone().requiresGrad_());
            onCl.add(v.detach().to(CL).requiresGrad_());
        }
        Tensor outCpu = c.f().apply(onCpu);
        Tensor outCl = c.f().apply(onCl);
        assertEquals(CL, outCl.device(), c.name() + ": output device");
        assertClose(c.name() + " forward", outCpu, outCl, rtol, atol);
        Tensor seedGrad = Tensor.randn(DType.FLOAT64, new Generator(seed + 7), outCpu.shape()).to(outCpu.dtype());
        outCpu.backward(seedGrad);
        outCl.backward(seedGrad.to(CL));
        for (int i = 0; i < onCpu.size(); i++) {
            Tensor gCpu = onCpu.get(i).grad();
            Tensor gCl = onCl.get(i).grad();
            if (gCpu == null) {
                assertTrue(gCl == null, c.name() + ": input " + i + " got a gradient on OpenCL only");
                continue;
            }
            assertNotNull(gCl, c.name() + ": input " + i + " got no gradient on OpenCL");
            assertEquals(CL, gCl.device(), c.name() + ": gradient " + i + " device");
            assertClose(c.name() + " grad " + i, gCpu, gCl, rtol, atol);
        }
    }

    /** The argmax positions that the backward pass scatters to are the CPU's, exactly (float32 and float64). */
    @Test
    void maxPoolIndicesEqualTheCpu() {
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            Tensor x = Tensor.randn(DType.FLOAT64, new Generator(31), 3, 2, 9, 7).to(dtype);
            ConvKernels.Window g = ConvKernels.Window.of(x.shape(), 3, 2, 2, 1, 1, 1);
            PoolKernels.MaxPooled cpu = PoolKernels.maxPool2d(x, g);
            PoolKernels.MaxPooled cl = PoolKernels.maxPool2d(x.to(CL), g);
            assertEquals(CL, cl.indices().device(), "indices stay on the device");
            assertEquals(DType.INT64, cl.indices().dtype());
            assertArrayEquals(cpu.indices().toLongArray(), cl.indices().toLongArray(), dtype + " indices");
            assertArrayEquals(cpu.values().toDoubleArray(), cl.values().toDoubleArray(), dtype + " values");
        }
    }

    static void assertClose(String what, Tensor expected, Tensor actual, double rtol, double atol) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            fail(what + ": shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape()));
        }
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= atol + rtol * Math.abs(e[i])) && !(Double.isNaN(e[i]) && Double.isNaN(a[i]))) {
                fail(what + ": element " + i + " is " + a[i] + " on OpenCL, " + e[i] + " on the CPU");
            }
        }
    }
}
