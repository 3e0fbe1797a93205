package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The float32 matrix-product paths checked against each other and against a float64 reference:
 * native OpenBLAS (when installed, as scripts/test.sh does), our Vector API kernel, and the
 * facade's Java BLAS; for plain, transposed and sliced operands.
 */
class GemmPathsTest {
    private static final int[][] SIZES = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 784, 256}, {128, 10, 128},
        {200, 300, 129}, {513, 257, 300}};

    private static Tensor[] operands(int m, int k, int n, int layout) {
        Generator g = new Generator(m * 31L + k * 7L + n + layout);
        Tensor a = layout % 2 == 0 ? Tensor.randn(DType.FLOAT32, g, m, k) : Tensor.randn(DType.FLOAT32, g, k, m).t();
        Tensor b = layout < 2 ? Tensor.randn(DType.FLOAT32, g, k, n) : Tensor.randn(DType.FLOAT32, g, n, k).t();
        return new Tensor[] {a, b};
    }

    private static void assertMatches(Tensor got, Tensor reference, int k, String what) {
        double[] x = got.toDoubleArray();
        double[] r = reference.toDoubleArray();
        double tol = 1e-5 * Math.sqrt(k) * 4;
        for (int i = 0; i < r.length; i++) {
            if (!(Math.abs(x[i] - r[i]) <= tol * (1 + Math.abs(r[i])))) {
                throw new AssertionError(what + ": element " + i + " got " + x[i] + ", reference " + r[i]);
            }
        }
    }

    @TestFactory
    List<DynamicTest> everyPathAgreesWithAFloat64Reference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Gemm.Impl impl : Gemm.Impl.values()) {
            for (int[] s : SIZES) {
                for (int layout = 0; layout < 4; layout++) {
                    int lay = layout;
                    String name = impl + " " + s[0] + "x" + s[1] + "x" + s[2] + (lay % 2 == 1 ? " Aᵀ" : "") + (lay >= 2 ? " Bᵀ" : "");
                    tests.add(DynamicTest.dynamicTest(name, () -> {
                        assumeTrue(impl != Gemm.Impl.NATIVE || Gemm.impl() == Gemm.Impl.NATIVE,
                                "native OpenBLAS is not installed here (apt-get install libopenblas0-pthread)");
                        assumeTrue(impl != Gemm.Impl.VECTOR || VectorKernels.available(), "no Vector API module");
                        Tensor[] ab = operands(s[0], s[1], s[2], lay);
                        Tensor reference = ab[0].to(DType.FLOAT64).matmul(ab[1].to(DType.FLOAT64));
                        assertMatches(Gemm.mmWith(impl, ab[0], ab[1]), reference, s[1], name);
                    }));
                }
            }
        }
        return tests;
    }

    @Test
    void nativeAndVectorPathsAgreeWithEachOther() {
        assumeTrue(Gemm.impl() == Gemm.Impl.NATIVE, "native OpenBLAS is not installed here");
        Tensor[] ab = operands(300, 500, 200, 1);
        Tensor nativeResult = Gemm.mmWith(Gemm.Impl.NATIVE, ab[0], ab[1]);
        Tensor vectorResult = Gemm.mmWith(Gemm.Impl.VECTOR, ab[0], ab[1]);
        assertMatches(vectorResult, nativeResult, 500, "vector vs native");
    }

    @Test
    void theChosenPathIsDescribed() {
        String d = Gemm.describe();
        assertTrue(d.startsWith("float32: "), d);
        if (Gemm.impl() == Gemm.Impl.VECTOR) {
            assertTrue(d.contains("VectorSgemm"), d);
        }
    }

    @Test
    void slicedOperandsWithGapsAreGatheredFirst() {
        Generator g = new Generator(4);
        Tensor big = Tensor.randn(DType.FLOAT32, g, 40, 60);
        Tensor a = big.slice(1, 0, 60, 2);              // [40, 30] with column stride 2
        Tensor b = Tensor.randn(DType.FLOAT32, g, 30, 20);
        Tensor reference = a.to(DType.FLOAT64).matmul(b.to(DType.FLOAT64));
        assertMatches(a.matmul(b), reference, 30, "strided A");
        assertEquals(DType.FLOAT32, a.matmul(b).dtype());
    }
}
