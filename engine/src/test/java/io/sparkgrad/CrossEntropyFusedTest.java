package io.sparkgrad;

import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import io.sparkgrad.ops.CrossEntropy;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused log-softmax + NLL kernel against its composed twin, in values and gradients. */
class CrossEntropyFusedTest {
    private static final long IGNORE = F.IGNORE_INDEX;

    private static Tensor composed(Tensor x, Tensor t, Tensor w, Reduction r, long ignore) {
        return F.nllLoss(x.logSoftmax(1), t, w, r, ignore);
    }

    private static void assertSameLossAndGradient(DType dtype, Tensor w, Reduction r, long ignore, long[] labels) {
        Generator g = new Generator(labels.length * 13L + r.ordinal());
        int n = labels.length;
        Tensor base = Tensor.randn(dtype, g, n, 7).mul(2);
        Tensor t = Tensor.of(labels, n);
        Tensor up = r == Reduction.NONE ? Tensor.randn(dtype, g, n) : Tensor.scalar(0.7, dtype);

        Tensor x1 = base.clone().requiresGrad_();
        Tensor fused = CrossEntropy.apply(x1, t, w, r, ignore);
        fused.backward(up);
        Tensor x2 = base.clone().requiresGrad_();
        Tensor twin = composed(x2, t, w, r, ignore);
        twin.backward(up);

        double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
        assertTrue(fused.allClose(twin, tol, tol), "loss " + fused + " vs " + twin);
        assertTrue(x1.grad().allClose(x2.grad(), tol, tol), "gradient\n" + x1.grad() + "\nvs\n" + x2.grad());
        assertEquals("NllLossBackward0", fused.gradFn().name());
    }

    @Test
    void matchesTheComposedFormForEveryReductionAndDtype() {
        long[] labels = {0, 6, 3, 3, 1, 5};
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (Reduction r : Reduction.values()) {
                assertSameLossAndGradient(dtype, null, r, IGNORE, labels);
            }
        }
    }

    @Test
    void matchesWithClassWeightsAndIgnoredRows() {
        Tensor w = Tensor.of(new double[] {0.5, 1, 2, 1, 0.25, 3, 1}, 7);
        long[] labels = {0, 6, -100, 3, 1, 5, -100};
        for (Reduction r : Reduction.values()) {
            assertSameLossAndGradient(DType.FLOAT64, w, r, IGNORE, labels);
            assertSameLossAndGradient(DType.FLOAT32, w.to(DType.FLOAT32), r, IGNORE, labels);
        }
        assertSameLossAndGradient(DType.FLOAT64, null, Reduction.MEAN, 3, new long[] {3, 2, 3, 0});
    }

    @Test
    void gradientsPassFiniteDifferencesToSecondOrder() {
        Generator g = new Generator(3);
        Tensor x = Tensor.randn(DType.FLOAT64, g, 4, 5);
        Tensor t = Tensor.of(new long[] {4, 0, 2, 2}, 4);
        Tensor w = Tensor.of(new double[] {1, 2, 0.5, 1, 1.5}, 5);
        for (Reduction r : Reduction.values()) {
            GradCheck.gradcheck("fused crossEntropy " + r, in -> CrossEntropy.apply(in.get(0), t, w, r, IGNORE), x);
            GradCheck.gradgradcheck("fused crossEntropy " + r, in -> CrossEntropy.apply(in.get(0), t, w, r, IGNORE), x);
        }
    }

    @Test
    void badTargetsAreNamed() {
        Tensor x = Tensor.ones(2, 3);
        IndexOutOfBoundsException e = org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                () -> CrossEntropy.apply(x, Tensor.of(new long[] {0, 3}, 2), null, Reduction.MEAN, IGNORE));
        assertTrue(e.getMessage().contains("target 3 at row 1"), e.getMessage());
    }
}
