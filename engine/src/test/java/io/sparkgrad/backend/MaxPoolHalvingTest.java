package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.ConvKernels.Window;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The branch-free float32 path of {@code MaxPool2d(2)} (2×2 windows, stride 2, no padding) gives
 * exactly what the general loop gives, value bits and index, on inputs full of the cases that
 * decide a winner: ties (first wins), zeros of both signs (the first keeps its sign), NaN (the last
 * one wins), −∞, odd sizes (the last row and column are dropped), rows that are not contiguous
 * with each other, and batches big enough to be split across threads. The general loop is reached
 * through float64 (the fast path is float32 only), whose values are the same numbers.
 */
class MaxPoolHalvingTest {
    /** Values drawn from a small set, so windows tie often; NaN and -0.0 among them. */
    private static float[] tricky(Generator g, int n, boolean withNan) {
        float[] pool = {0f, -0f, 1f, 1f, 2f, -1f, Float.NEGATIVE_INFINITY, 0.5f, -0f, 0f, withNan ? Float.NaN : 3f};
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = pool[g.nextInt(pool.length)];
        }
        return v;
    }

    private static void assertSameAsGeneralLoop(Tensor x, String what) {
        assertTrue(PoolKernels.isHalving(Window.of(x.shape(), 2, 2, 2, 2, 0, 0), x.stride()), what + ": fast path taken");
        Window g = Window.of(x.shape(), 2, 2, 2, 2, 0, 0);
        PoolKernels.MaxPooled fast = PoolKernels.maxPool2d(x, g);
        PoolKernels.MaxPooled general = PoolKernels.maxPool2d(x.to(DType.FLOAT64), g);
        assertArrayEquals(general.indices().toLongArray(), fast.indices().toLongArray(), what + ": indices");
        double[] want = general.values().toDoubleArray();
        assertSameValues(want, fast.values().toFloatArray(), what + " (" + PoolKernels.HALVING.getClass().getSimpleName() + ")");
        // The scalar loop too, which is what runs when the JVM has no Vector API module.
        float[] values = new float[want.length];
        long[] indices = new long[want.length];
        PoolKernels.maxPool2x2(x.storage().floats(), x.storageOffset(), x.stride(), values, indices, g, 0, g.batch());
        assertArrayEquals(general.indices().toLongArray(), indices, what + ": indices of the scalar loop");
        assertSameValues(want, values, what + " (scalar loop)");
    }

    private static void assertSameValues(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < got.length; i++) {
            // floatToIntBits: one bit pattern for every NaN, but -0.0 and 0.0 stay apart.
            assertEquals(Float.floatToIntBits((float) want[i]), Float.floatToIntBits(got[i]),
                    what + ": value " + i + " is " + got[i] + ", the general loop gives " + want[i]);
        }
    }

    @Test
    void withTheVectorApiTheVectorLoopIsTheOneInUse() {
        assertTrue(VectorKernels.available(), "surefire starts the JVM with --add-modules jdk.incubator.vector");
        assertEquals("VectorPoolKernels", PoolKernels.HALVING.getClass().getSimpleName());
    }

    @TestFactory
    List<DynamicTest> fastPathMatchesTheGeneralLoop() {
        // Widths below, at and above the vector length (8 windows = 16 columns), odd and even.
        int[][] shapes = {{1, 1, 2, 2}, {1, 1, 3, 3}, {2, 3, 6, 7}, {3, 2, 11, 11}, {4, 5, 26, 26}, {64, 8, 13, 12},
                {2, 2, 4, 16}, {2, 2, 5, 17}, {2, 2, 4, 18}, {2, 3, 6, 33}, {2, 2, 3, 64}};
        List<DynamicTest> tests = new ArrayList<>();
        for (int[] shape : shapes) {
            for (boolean withNan : new boolean[] {false, true}) {
                String name = Arrays.toString(shape) + (withNan ? " with NaN" : "");
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    Generator g = new Generator(Arrays.hashCode(shape) + (withNan ? 1 : 0));
                    int n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
                    assertSameAsGeneralLoop(Tensor.of(tricky(g, n, withNan), shape), name);
                }));
            }
        }
        tests.add(DynamicTest.dynamicTest("rows that are not contiguous (a slice of wider rows)", () -> {
            Generator g = new Generator(5);
            Tensor wide = Tensor.of(tricky(g, 3 * 4 * 10 * 15, true), 3, 4, 10, 15);
            Tensor x = wide.slice(3, 1, 12);
            assertFalse(x.isContiguous());
            assertSameAsGeneralLoop(x, "slice");
        }));
        tests.add(DynamicTest.dynamicTest("random normal activations after ReLU", () -> {
            Generator g = new Generator(6);
            assertSameAsGeneralLoop(Tensor.randn(DType.FLOAT32, g, 16, 32, 26, 26).relu(), "relu");
        }));
        return tests;
    }

    @Test
    void tiesZerosAndNanFollowPyTorchsRule() {
        Tensor x = Tensor.of(new float[] {
                -0f, 0f, 7f, 7f, Float.NaN, 1f, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY,
                0f, 0f, 1f, 7f, 2f, Float.NaN, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, 1, 1, 2, 8);
        PoolKernels.MaxPooled p = PoolKernels.maxPool2d(x, Window.of(x.shape(), 2, 2, 2, 2, 0, 0));
        float[] v = p.values().toFloatArray();
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(v[0]), "-0.0 came first among the zeros");
        assertEquals(7f, v[1]);
        assertTrue(Float.isNaN(v[2]));
        assertEquals(Float.NEGATIVE_INFINITY, v[3]);
        // Flat positions within the 2x8 plane: the first 7 (col 2), the last NaN (row 1, col 5), the first -inf.
        assertArrayEquals(new long[] {0, 2, 13, 6}, p.indices().toLongArray());
    }
}
