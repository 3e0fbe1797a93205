package io.sparkgrad;

import io.sparkgrad.ops.Addmm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused linear primitive against its composed twin {@code a.matmul(b).add(bias)}. */
class AddmmTest {

    private static void assertTwins(DType dtype, int m, int k, int n, boolean transposedWeight, boolean fullBias) {
        Generator g = new Generator(m * 100L + k * 10L + n);
        Tensor a0 = Tensor.randn(dtype, g, m, k);
        Tensor w0 = transposedWeight ? Tensor.randn(dtype, g, n, k) : Tensor.randn(dtype, g, k, n);
        Tensor bias0 = fullBias ? Tensor.randn(dtype, g, m, n) : Tensor.randn(dtype, g, n);
        Tensor up = Tensor.randn(dtype, g, m, n);

        Tensor a1 = a0.clone().requiresGrad_();
        Tensor w1 = w0.clone().requiresGrad_();
        Tensor b1 = bias0.clone().requiresGrad_();
        Tensor fused = Addmm.apply(b1, a1, transposedWeight ? w1.t() : w1);
        fused.backward(up);
        assertEquals("AddmmBackward0", fused.gradFn().name());

        Tensor a2 = a0.clone().requiresGrad_();
        Tensor w2 = w0.clone().requiresGrad_();
        Tensor b2 = bias0.clone().requiresGrad_();
        (transposedWeight ? a2.matmul(w2.t()) : a2.matmul(w2)).add(b2).backward(up);

        double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-5 * Math.sqrt(k);
        String what = dtype + " " + m + "x" + k + "x" + n;
        assertTrue(fused.allClose(a2.matmul(transposedWeight ? w2.t() : w2).add(b2), tol, tol), what + " forward");
        assertTrue(a1.grad().allClose(a2.grad(), tol, tol), what + " grad a");
        assertTrue(w1.grad().allClose(w2.grad(), tol, tol), what + " grad w");
        assertTrue(b1.grad().allClose(b2.grad(), tol, tol), what + " grad bias");
    }

    @Test
    void matchesTheComposedFormOnEveryPath() {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            assertTwins(dtype, 1, 5, 3, false, false);      // tiny: the plain loop
            assertTwins(dtype, 32, 784, 256, true, false);  // a Linear layer: BLAS / vector kernel
            assertTwins(dtype, 7, 9, 4, true, true);        // a full [m, n] bias
            assertTwins(dtype, 130, 70, 10, false, false);
        }
    }

    @Test
    void gradientsPassFiniteDifferences() {
        Generator g = new Generator(8);
        Tensor bias = Tensor.randn(DType.FLOAT64, g, 4);
        Tensor a = Tensor.randn(DType.FLOAT64, g, 3, 5);
        Tensor w = Tensor.randn(DType.FLOAT64, g, 4, 5);
        GradCheck.gradcheck("addmm", in -> Addmm.apply(in.get(0), in.get(1), in.get(2).t()), bias, a, w);
        GradCheck.gradgradcheck("addmm", in -> Addmm.apply(in.get(0), in.get(1), in.get(2).t()), bias, a, w);
    }

    @Test
    void shapeErrorsNameTheShapes() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> Addmm.apply(Tensor.ones(3), Tensor.ones(2, 4), Tensor.ones(5, 3))).getMessage();
        assertTrue(m.contains("[2, 4]") && m.contains("[5, 3]"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> Addmm.apply(Tensor.ones(4), Tensor.ones(2, 5), Tensor.ones(5, 3))).getMessage();
        assertTrue(m.contains("bias of shape [4]"), m);
    }
}
