package io.sparkgrad.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.GradCheck;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import io.sparkgrad.ops.Col2Im;
import io.sparkgrad.ops.Im2Col;
import io.sparkgrad.ops.MaxPool2dWithIndices;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The new primitives (unfold/fold, max pooling, erf, BCE-with-logits with weights) and the
 * functions composed from them, checked against central finite differences in float64
 * ({@link GradCheck}), first and second order, with inputs that arrive non-contiguous.
 */
class NnGradCheckTest {
    private static final DType F64 = DType.FLOAT64;

    private final Generator gen = new Generator(0xC0FFEE);

    private Tensor randn(int... shape) {
        return Tensor.randn(F64, gen, shape);
    }

    /** Distinct values at least 0.05 apart (shuffled), so a finite-difference step never changes which element is the maximum. */
    private Tensor distinct(int... shape) {
        int n = Tensor.zeros(shape).numel();
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i - n / 2.0) * 0.05;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = gen.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return Tensor.of(v, shape);
    }

    /** {kh, kw, sh, sw, ph, pw, N, C, H, W}. */
    private static final int[][] WINDOWS = {
        {2, 2, 1, 1, 0, 0, 2, 2, 3, 4},
        {3, 3, 2, 2, 1, 1, 1, 2, 5, 6},
        {2, 3, 2, 1, 1, 0, 2, 1, 4, 5},
        {1, 1, 1, 1, 0, 0, 1, 3, 2, 2},
        {3, 2, 3, 3, 1, 1, 2, 1, 7, 5},
    };

    @TestFactory
    List<DynamicTest> im2col() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] w : WINDOWS) {
            String name = "unfold " + java.util.Arrays.toString(w);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Tensor x = randn(w[6], w[7], w[8], w[9]);
                GradCheck.of(name).check(in -> Im2Col.apply(in.get(0), w[0], w[1], w[2], w[3], w[4], w[5]), x);
                // Channels-last storage read through strides.
                Tensor strided = randn(w[6], w[8], w[9], w[7]).permute(0, 3, 1, 2);
                GradCheck.of(name + " strided input").check(
                        in -> Im2Col.apply(in.get(0), w[0], w[1], w[2], w[3], w[4], w[5]), strided);
                GradCheck.of(name).checkSecondOrder(
                        in -> Im2Col.apply(in.get(0), w[0], w[1], w[2], w[3], w[4], w[5]).mul(in.get(0).sum()), x);
            }));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> col2im() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] w : WINDOWS) {
            String name = "fold " + java.util.Arrays.toString(w);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                int oh = (w[8] + 2 * w[4] - w[0]) / w[2] + 1;
                int ow = (w[9] + 2 * w[5] - w[1]) / w[3] + 1;
                int patch = w[7] * w[0] * w[1];
                Tensor cols = randn(w[6], patch, oh * ow);
                GradCheck.of(name).check(
                        in -> Col2Im.apply(in.get(0), w[8], w[9], w[0], w[1], w[2], w[3], w[4], w[5]), cols);
                Tensor transposed = randn(w[6], oh * ow, patch).transpose(1, 2);
                GradCheck.of(name + " transposed input").check(
                        in -> Col2Im.apply(in.get(0), w[8], w[9], w[0], w[1], w[2], w[3], w[4], w[5]), transposed);
                GradCheck.of(name).checkSecondOrder(
                        in -> Col2Im.apply(in.get(0).mul(in.get(0)), w[8], w[9], w[0], w[1], w[2], w[3], w[4], w[5]),
                        cols);
            }));
        }
        return tests;
    }

    @Test
    void foldIsTheAdjointOfUnfold() {
        // <unfold(x), c> = <x, fold(c)> for every x and c: the defining property of the pair.
        for (int[] w : WINDOWS) {
            Tensor x = randn(w[6], w[7], w[8], w[9]);
            Tensor cols = Im2Col.apply(x, w[0], w[1], w[2], w[3], w[4], w[5]);
            Tensor c = randn(cols.shape());
            Tensor folded = Col2Im.apply(c, w[8], w[9], w[0], w[1], w[2], w[3], w[4], w[5]);
            double lhs = cols.mul(c).sum().item();
            double rhs = x.mul(folded).sum().item();
            assertEquals(lhs, rhs, 1e-12 * Math.max(1, Math.abs(lhs)), java.util.Arrays.toString(w));
        }
    }

    @TestFactory
    List<DynamicTest> maxPool2d() {
        List<DynamicTest> tests = new ArrayList<>();
        int[][] pools = {{2, 2, 2, 2, 0, 0}, {3, 3, 2, 2, 1, 1}, {3, 3, 1, 1, 0, 0}, {2, 3, 1, 2, 1, 1}};
        for (int[] p : pools) {
            String name = "maxPool2d " + java.util.Arrays.toString(p);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Tensor x = distinct(2, 2, 5, 6);
                GradCheck.of(name).check(in -> MaxPool2dWithIndices.apply(in.get(0), p[0], p[1], p[2], p[3], p[4], p[5]), x);
                Tensor strided = distinct(2, 5, 6, 2).permute(0, 3, 1, 2);
                GradCheck.of(name + " strided").check(
                        in -> MaxPool2dWithIndices.apply(in.get(0), p[0], p[1], p[2], p[3], p[4], p[5]), strided);
                GradCheck.of(name).checkSecondOrder(
                        in -> MaxPool2dWithIndices.apply(in.get(0).mul(in.get(0)), p[0], p[1], p[2], p[3], p[4], p[5]),
                        distinct(1, 2, 5, 6).add(3.0));
            }));
        }
        return tests;
    }

    @Test
    void maxPoolPaddingNeverWinsAndNanDoes() {
        Tensor x = Tensor.full(-5, F64, 1, 1, 2, 2);
        Tensor out = MaxPool2dWithIndices.apply(x, 3, 3, 1, 1, 1, 1);
        assertTrue(Tensor.full(-5, F64, 1, 1, 2, 2).valueEquals(out), out.toString());
        Tensor withNan = Tensor.of(new double[] {1, Double.NaN, 3, 4}, 1, 1, 2, 2);
        assertTrue(Double.isNaN(MaxPool2dWithIndices.apply(withNan, 2, 2, 2, 2, 0, 0).item()));
    }

    @Test
    void erf() {
        Tensor x = Tensor.of(new double[] {-3.5, -2.6, -1.2, -0.3, 0.0, 0.4, 1.7, 2.49, 2.51, 4.0}, 2, 5);
        GradCheck.of("erf").check(in -> F.erf(in.get(0)), x);
        GradCheck.of("erf").checkSecondOrder(in -> F.erf(in.get(0)), x);
        GradCheck.of("erf transposed").check(in -> F.erf(in.get(0)), randn(3, 4).t());
    }

    @Test
    void binaryCrossEntropyWithLogitsWeights() {
        Tensor x = randn(4, 3).mul(2);
        Tensor y = Tensor.rand(F64, gen, 4, 3);
        Tensor pos = Tensor.rand(F64, gen, 3).mul(2).add(0.5);
        Tensor w = Tensor.rand(F64, gen, 4, 3).add(0.5);
        for (Reduction r : Reduction.values()) {
            GradCheck.of("bce posWeight " + r).constant(2).check(
                    in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), null, in.get(2), r), x, y, pos);
            GradCheck.of("bce weight " + r).constant(2).check(
                    in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), in.get(2), null, r), x, y, w);
            GradCheck.of("bce both " + r).constant(2, 3).check(
                    in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), in.get(2), in.get(3), r), x, y, w, pos);
            GradCheck.of("bce both " + r).constant(2, 3).checkSecondOrder(
                    in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), in.get(2), in.get(3), r), x, y, w, pos);
        }
    }

    @Test
    void binaryCrossEntropyWithLogitsRejectsDifferentiableWeights() {
        Tensor x = randn(2, 3).requiresGrad_();
        Tensor y = Tensor.rand(F64, gen, 2, 3);
        Tensor pos = Tensor.ones(F64, 3).requiresGrad_();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> F.binaryCrossEntropyWithLogits(x, y, null, pos, Reduction.MEAN));
        assertTrue(e.getMessage().contains("pos_weight"), e.getMessage());
        try (var g = GradMode.noGrad()) {
            F.binaryCrossEntropyWithLogits(x, y, null, pos, Reduction.MEAN);
        }
    }

    // ------------------------------------------------------------------ composed functions

    @Test
    void conv2d() {
        Tensor x = randn(2, 3, 6, 5);
        Tensor w = randn(4, 3, 3, 2);
        Tensor b = randn(4);
        GradCheck.of("conv2d").check(in -> F.conv2d(in.get(0), in.get(1), in.get(2), new int[] {2, 1}, new int[] {1, 0}),
                x, w, b);
        GradCheck.of("conv2d no bias").check(in -> F.conv2d(in.get(0), in.get(1), null, 1, 1), x, randn(2, 3, 3, 3));
        GradCheck.of("conv2d").checkSecondOrder(in -> F.conv2d(in.get(0), in.get(1), in.get(2), 2, 1),
                randn(1, 2, 4, 4), randn(2, 2, 3, 3), randn(2));
    }

    @Test
    void pools() {
        Tensor x = randn(2, 2, 5, 6);
        GradCheck.of("avgPool2d").check(
                in -> F.avgPool2d(in.get(0), new int[] {3, 2}, new int[] {2, 2}, new int[] {1, 1}), x);
        GradCheck.of("avgPool2d strided").check(in -> F.avgPool2d(in.get(0), 2), randn(2, 5, 6, 2).permute(0, 3, 1, 2));
        GradCheck.of("maxPool2d unbatched").check(in -> F.maxPool2d(in.get(0), 2), distinct(2, 4, 4));
    }

    @Test
    void normalisation() {
        Tensor x = randn(3, 4, 5);
        GradCheck.of("layerNorm").check(
                in -> F.layerNorm(in.get(0), new int[] {4, 5}, in.get(1), in.get(2), 1e-5), x, randn(4, 5), randn(4, 5));
        GradCheck.of("layerNorm").checkSecondOrder(
                in -> F.layerNorm(in.get(0), new int[] {5}, in.get(1), in.get(2), 1e-5), x, randn(5), randn(5));
        Tensor runningMean = Tensor.zeros(F64, 4);
        Tensor runningVar = Tensor.ones(F64, 4);
        GradCheck.of("batchNorm train").check(
                in -> F.batchNorm(in.get(0), null, null, in.get(1), in.get(2), true, 0.1, 1e-5),
                randn(3, 4, 2, 2), randn(4), randn(4));
        GradCheck.of("batchNorm eval").check(
                in -> F.batchNorm(in.get(0), runningMean, runningVar, in.get(1), in.get(2), false, 0.1, 1e-5),
                randn(3, 4, 5), randn(4), randn(4));
    }

    @Test
    void activationsAndEmbedding() {
        Tensor x = randn(3, 4).mul(2);
        GradCheck.of("gelu").check(in -> F.gelu(in.get(0)), x);
        GradCheck.of("gelu").checkSecondOrder(in -> F.gelu(in.get(0)), x);
        GradCheck.of("gelu tanh").check(in -> F.gelu(in.get(0), "tanh"), x);
        Tensor idx = Tensor.of(new long[] {1, 3, 1, 0, 2, 3}, 2, 3);
        GradCheck.of("embedding").check(in -> F.embedding(in.get(0), in.get(1)), idx, randn(4, 3));
        GradCheck.of("dropout").check(in -> F.dropout(in.get(0), 0.4, true, new Generator(7)), x);
    }

    @Test
    void embeddingPaddingRowGetsNoGradient() {
        // Not the derivative (the padding row does affect the output): PyTorch's rule, checked directly.
        Tensor idx = Tensor.of(new long[] {1, 3, 1, 0, 2, 3}, 2, 3);
        Tensor w = randn(4, 3).requiresGrad_();
        Tensor g = randn(2, 3, 3);
        Tensor out = F.embedding(idx, w, 1);
        assertTrue(out.valueEquals(F.embedding(idx, w.detach())), "padding changes no value");
        out.backward(g);
        // Each looked-up row collects the upstream gradient of its positions, except the padding row.
        long[] rows = idx.toLongArray();
        Tensor expected = Tensor.zeros(F64, 4, 3);
        for (int e = 0; e < rows.length; e++) {
            if (rows[e] != 1) {
                expected.select(0, (int) rows[e]).add_(g.reshape(6, 3).select(0, e));
            }
        }
        assertTrue(w.grad().allClose(expected, 0, 1e-15), w.grad().toString());
    }

    @Test
    void losses() {
        Tensor logits = randn(5, 4);
        Tensor target = Tensor.of(new long[] {0, 3, -100, 2, 3}, 5);
        Tensor weight = Tensor.rand(F64, gen, 4).add(0.5);
        Tensor y = randn(5, 4);
        for (Reduction r : Reduction.values()) {
            GradCheck.of("crossEntropy smoothing " + r).check(
                    in -> F.crossEntropy(in.get(0), target, null, -100, r, 0.2), logits);
            GradCheck.of("crossEntropy smoothing weight " + r).constant(1).check(
                    in -> F.crossEntropy(in.get(0), target, in.get(1), -100, r, 0.3), logits, weight);
            GradCheck.of("crossEntropy k-dim " + r).check(
                    in -> F.crossEntropy(in.get(0), Tensor.of(new long[] {0, 2, 1, 1, 2, 0, 1, 0}, 2, 2, 2), null, -100,
                            r, 0.1), randn(2, 3, 2, 2));
            GradCheck.of("l1Loss " + r).check(in -> F.l1Loss(in.get(0), in.get(1), r), logits, y);
            GradCheck.of("huberLoss " + r).check(in -> F.huberLoss(in.get(0), in.get(1), r, 0.7), logits, y);
        }
        GradCheck.of("crossEntropy smoothing").checkSecondOrder(
                in -> F.crossEntropy(in.get(0), target, null, -100, Reduction.MEAN, 0.2), logits);
    }
}
