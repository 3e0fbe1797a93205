package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * im2col and col2im in float32 against float64 on the same values. The gradient checks and the
 * PyTorch golden tests run convolutions in float64, so without this nothing would reach the float32
 * loops, which have unit-stride fast paths of their own. im2col only moves values, so the two must
 * agree exactly; col2im sums at most {@code kh·kw} values per pixel, so float32 rounding is the
 * only difference allowed. Batches are large enough to be split across threads.
 */
class ConvKernelsFloat32Test {
    /** {C, H, W, kh, kw, sh, sw, ph, pw} */
    private static final int[][] CASES = {
            {1, 28, 28, 3, 3, 1, 1, 0, 0},
            {32, 13, 13, 3, 3, 1, 1, 0, 0},
            {3, 9, 11, 3, 2, 1, 1, 1, 1},
            {2, 10, 9, 3, 3, 2, 2, 1, 0},
            {4, 7, 8, 2, 3, 3, 1, 1, 1},
            {2, 5, 5, 5, 5, 1, 1, 2, 2},
    };

    private static void assertClose(Tensor f32, Tensor f64, double tol, String what) {
        assertEquals(DType.FLOAT32, f32.dtype(), what);
        assertArrayEquals(f64.shape(), f32.shape(), what);
        float[] a = f32.toFloatArray();
        double[] b = f64.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])))) {
                throw new AssertionError(what + ": element " + i + " float32 " + a[i] + " vs float64 " + b[i]);
            }
        }
    }

    @TestFactory
    List<DynamicTest> unfoldAndFoldMatchFloat64() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] c : CASES) {
            int[] kernel = {c[3], c[4]};
            int[] stride = {c[5], c[6]};
            int[] padding = {c[7], c[8]};
            tests.add(DynamicTest.dynamicTest(Arrays.toString(c), () -> {
                Generator g = new Generator(Arrays.hashCode(c));
                int n = 40;
                Tensor x = Tensor.randn(DType.FLOAT32, g, n, c[0], c[1], c[2]);
                Tensor x64 = x.to(DType.FLOAT64);
                Tensor cols = F.unfold(x, kernel, padding, stride);
                assertClose(cols, F.unfold(x64, kernel, padding, stride), 0, "unfold");
                // Columns as they come in a convolution's backward: rows of a [P, N·L] product.
                int p = cols.size(1);
                int l = cols.size(2);
                Tensor grad = Tensor.randn(DType.FLOAT32, g, p, n, l).permute(1, 0, 2);
                int[] size = {c[1], c[2]};
                assertClose(F.fold(grad, size, kernel, padding, stride),
                        F.fold(grad.to(DType.FLOAT64), size, kernel, padding, stride), 1e-5, "fold, [P, N, L] storage");
                // And contiguous [N, P, L] columns, read with other strides.
                Tensor plain = Tensor.randn(DType.FLOAT32, g, n, p, l);
                assertClose(F.fold(plain, size, kernel, padding, stride),
                        F.fold(plain.to(DType.FLOAT64), size, kernel, padding, stride), 1e-5, "fold, [N, P, L] storage");
                // Non-unit column stride on the way in: every other column of a wider image.
                Tensor wide = Tensor.randn(DType.FLOAT32, g, 4, c[0], c[1], 2 * c[2]).slice(3, 0, 2 * c[2], 2);
                assertClose(F.unfold(wide, kernel, padding, stride),
                        F.unfold(wide.to(DType.FLOAT64), kernel, padding, stride), 0, "unfold of a strided view");
            }));
        }
        return tests;
    }
}
