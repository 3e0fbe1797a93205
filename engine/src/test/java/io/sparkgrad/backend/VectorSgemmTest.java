package io.sparkgrad.backend;

import dev.ludovic.netlib.blas.BLAS;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link VectorSgemm} against a double-precision reference and against the BLAS facade, for shapes
 * around every block edge, all transpose combinations, offsets and padded leading dimensions.
 * <p>
 * Tolerance: the rounding-error bound of a float dot product of length k in any summation order,
 * {@code k·u·Σ|a·b|} with {@code u = 2⁻²⁴}, plus a few roundings for alpha, beta and the final
 * addition into C. It is an upper bound that any correct float32 implementation meets; a wrong index
 * or a missed block misses it by orders of magnitude.
 */
class VectorSgemmTest {
    private static final double U = 0x1p-24;
    private static final boolean[] BOOLS = {false, true};
    private static ExecutorService pool;

    @BeforeAll
    static void startPool() {
        System.out.println("Testing " + VectorSgemm.describe());
        pool = Executors.newFixedThreadPool(3, r -> {
            Thread t = new Thread(r, "sgemm-test");
            t.setDaemon(true);
            return t;
        });
    }

    @AfterAll
    static void stopPool() {
        pool.shutdownNow();
    }

    /** One product to check: operands stored with offsets and padded rows, C with a guard band around it. */
    private static final class Case {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final float alpha;
        final float beta;
        final float[] a;
        final int aOff;
        final int lda;
        final float[] b;
        final int bOff;
        final int ldb;
        final float[] c0;
        final int cOff;
        final int ldc;

        Case(Random rnd, boolean transA, boolean transB, int m, int n, int k, float alpha, float beta) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.beta = beta;
            int aRows = transA ? k : m;
            int aCols = transA ? m : k;
            aOff = rnd.nextInt(8);
            lda = aCols + rnd.nextInt(6);
            a = filled(rnd, aOff + aRows * lda + rnd.nextInt(4));
            int bRows = transB ? n : k;
            int bCols = transB ? k : n;
            bOff = rnd.nextInt(8);
            ldb = bCols + rnd.nextInt(6);
            b = filled(rnd, bOff + bRows * ldb + rnd.nextInt(4));
            cOff = rnd.nextInt(8);
            ldc = n + rnd.nextInt(6);
            c0 = filled(rnd, cOff + m * ldc + rnd.nextInt(4));
        }

        double a(int i, int p) {
            return transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        }

        double b(int p, int j) {
            return transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }

        float[] run() {
            float[] c = c0.clone();
            VectorSgemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return c;
        }

        float[] runParallel(Executor executor, int threads) {
            float[] c = c0.clone();
            VectorSgemm.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc,
                    executor, threads);
            return c;
        }

        /** The same product through the column-major facade: Cᵀ = op(B)ᵀ·op(A)ᵀ. */
        float[] runFacade(BLAS blas) {
            float[] c = c0.clone();
            blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha, b, bOff, ldb, a, aOff, lda,
                    beta, c, cOff, ldc);
            return c;
        }

        @Override
        public String toString() {
            return "m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB + " alpha=" + alpha
                    + " beta=" + beta + " offsets " + aOff + "/" + bOff + "/" + cOff + " ld " + lda + "/" + ldb + "/"
                    + ldc;
        }

        /**
         * Checks every element of C against the double reference within {@code slack} times the
         * error bound, and that nothing outside the m×n window changed.
         */
        void check(float[] c, double slack, String what) {
            boolean[] inside = new boolean[c.length];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    double abs = 0;
                    for (int p = 0; p < k; p++) {
                        double t = a(i, p) * b(p, j);
                        dot += t;
                        abs += Math.abs(t);
                    }
                    int at = cOff + i * ldc + j;
                    inside[at] = true;
                    double old = beta == 0f ? 0 : (double) beta * c0[at];
                    double expected = alpha * dot + old;
                    double bound = (k + 4) * U * Math.abs(alpha) * abs + 3 * U * Math.abs(old) + 3 * U * Math.abs(expected);
                    double err = Math.abs(c[at] - expected);
                    if (!(err <= slack * bound + Float.MIN_NORMAL)) {
                        fail(what + ": C[" + i + "," + j + "] = " + c[at] + ", expected " + expected + " (error " + err
                                + " > bound " + slack * bound + ") for " + this);
                    }
                }
            }
            for (int x = 0; x < c.length; x++) {
                if (!inside[x] && Float.floatToRawIntBits(c[x]) != Float.floatToRawIntBits(c0[x])) {
                    fail(what + ": C[" + x + "] outside the " + m + "×" + n + " window changed for " + this);
                }
            }
        }
    }

    private static float[] filled(Random rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static int randomSize(Random rnd) {
        // Half the draws from sizes at the block edges, half uniform in 1..300.
        int[] edges = {1, 2, 3, VectorSgemm.MR - 1, VectorSgemm.MR, VectorSgemm.MR + 1, VectorSgemm.NR - 1,
                VectorSgemm.NR, VectorSgemm.NR + 1, 2 * VectorSgemm.NR + 3, 100, 255, 256, 257, 300};
        return rnd.nextBoolean() ? edges[rnd.nextInt(edges.length)] : 1 + rnd.nextInt(300);
    }

    @Test
    void randomShapesMatchDoubleReference() {
        Random rnd = new Random(42);
        for (int i = 0; i < 160; i++) {
            boolean transA = (i & 1) != 0;
            boolean transB = (i & 2) != 0;
            float beta = (i & 4) != 0 ? 1f : 0f;
            float alpha = i % 5 == 0 ? -1.5f : 1f;
            Case t = new Case(rnd, transA, transB, randomSize(rnd), randomSize(rnd), randomSize(rnd), alpha, beta);
            t.check(t.run(), 1, "serial");
        }
    }

    @Test
    void everyEdgeSizeWithEveryTransposition() {
        Random rnd = new Random(7);
        int mr = VectorSgemm.MR;
        int nr = VectorSgemm.NR;
        for (int m : new int[] {1, mr - 1, mr, mr + 1, 2 * mr + 1}) {
            for (int n : new int[] {1, nr - 1, nr, nr + 1, 3 * nr - 1}) {
                for (int k : new int[] {1, 2, 17}) {
                    for (boolean ta : BOOLS) {
                        for (boolean tb : BOOLS) {
                            Case t = new Case(rnd, ta, tb, m, n, k, 1f, (m + n + k) % 2 == 0 ? 0f : 1f);
                            t.check(t.run(), 1, "serial");
                        }
                    }
                }
            }
        }
    }

    @Test
    void generalAlphaAndBeta() {
        Random rnd = new Random(3);
        for (float alpha : new float[] {0.5f, -2f}) {
            for (float beta : new float[] {-0.75f, 2f}) {
                for (boolean ta : BOOLS) {
                    for (boolean tb : BOOLS) {
                        Case t = new Case(rnd, ta, tb, 1 + rnd.nextInt(60), 1 + rnd.nextInt(80), 1 + rnd.nextInt(70),
                                alpha, beta);
                        t.check(t.run(), 1, "serial");
                    }
                }
            }
        }
    }

    @Test
    void productsLargerThanEveryBlock() {
        Random rnd = new Random(11);
        // m past MC, k past two KC blocks, then n past NC (kept thin so the reference stays quick).
        Case deep = new Case(rnd, false, true, VectorSgemm.MC + VectorSgemm.MR + 1, 70, 2 * VectorSgemm.KC + 1, 1f, 1f);
        deep.check(deep.run(), 1, "serial");
        Case wide = new Case(rnd, true, false, 5, VectorSgemm.NC + VectorSgemm.NR + 3, VectorSgemm.KC + 3, 1f, 0f);
        wide.check(wide.run(), 1, "serial");
        // The narrow path works through blocks of 2048 rows.
        Case tall = new Case(rnd, false, false, 2048 + 5, 5, 40, 1f, 1f);
        tall.check(tall.run(), 1, "serial");
    }

    @Test
    void fewRowsAndFewColumnsWithEveryTransposition() {
        Random rnd = new Random(29);
        int[][] shapes = {{1, 1000, 300}, {4, 77, 513}, {2, 16, 1}, {1, 1, 1000}, {500, 1, 64}, {300, 15, 33},
            {40, 7, 700}, {5, 4, 3}};
        for (int[] sh : shapes) {
            for (boolean ta : BOOLS) {
                for (boolean tb : BOOLS) {
                    for (float beta : new float[] {0f, 1f, -0.5f}) {
                        Case t = new Case(rnd, ta, tb, sh[0], sh[1], sh[2], beta == 1f ? 1f : 0.75f, beta);
                        t.check(t.run(), 1, "serial");
                    }
                }
            }
        }
    }

    @Test
    void matchesTheBlasFacade() {
        BLAS blas = BLAS.getInstance();
        Random rnd = new Random(5);
        for (int i = 0; i < 40; i++) {
            Case t = new Case(rnd, (i & 1) != 0, (i & 2) != 0, randomSize(rnd), randomSize(rnd), randomSize(rnd),
                    1f, (i & 4) != 0 ? 1f : 0f);
            float[] ours = t.run();
            float[] theirs = t.runFacade(blas);
            t.check(theirs, 1, blas.getClass().getSimpleName()); // the reference check holds for the facade too
            // Two float results each within the bound of the exact value are within twice it of each other.
            for (int r = 0; r < t.m; r++) {
                for (int j = 0; j < t.n; j++) {
                    int at = t.cOff + r * t.ldc + j;
                    double abs = 0;
                    for (int p = 0; p < t.k; p++) {
                        abs += Math.abs(t.a(r, p) * t.b(p, j));
                    }
                    double bound = 2 * ((t.k + 4) * U * abs + 6 * U * Math.abs(t.c0[at])) + Float.MIN_NORMAL;
                    if (!(Math.abs(ours[at] - theirs[at]) <= bound)) {
                        fail("C[" + r + "," + j + "]: VectorSgemm " + ours[at] + ", " + blas.getClass().getSimpleName()
                                + " " + theirs[at] + " for " + t);
                    }
                }
            }
        }
    }

    @Test
    void threadsGiveBitwiseTheSameResult() {
        Random rnd = new Random(13);
        // Packed both ways of splitting, the narrow path (n < NR/2), the row path (m <= 4), and m > n
        // split into parts of which the last has a single row.
        // (All above the size from which threads are used.)
        int[][] shapes = {{300, 257, 129}, {61, 300, 300}, {300, 40, 400}, {160, 170, 180}, {7, 1000, 700},
            {300, 10, 1500}, {3, 1000, 1500}, {13, 12, 27000}};
        for (int[] s : shapes) {
            for (boolean ta : BOOLS) {
                for (boolean tb : BOOLS) {
                    Case t = new Case(rnd, ta, tb, s[0], s[1], s[2], 1f, 0f);
                    float[] serial = t.run();
                    assertTrue(VectorSgemm.parts(s[0], s[1], s[2], 4) > 1, "threads are used for " + t);
                    for (int threads : new int[] {2, 3, 4}) {
                        assertArrayEquals(serial, t.runParallel(pool, threads), 0f, threads + " threads, " + t);
                    }
                }
            }
        }
        Case t = new Case(rnd, false, false, 200, 220, 240, 1f, 1f);
        t.check(t.runParallel(pool, 2), 1, "2 threads");
    }

    @Test
    void anExecutorThatNeverRunsOrRejectsTasksCannotStallTheProduct() {
        Random rnd = new Random(17);
        Case t = new Case(rnd, false, false, 150, 190, 120, 1f, 0f);
        float[] serial = t.run();
        Executor dropsEverything = r -> { };
        Executor rejects = r -> {
            throw new RejectedExecutionException("full");
        };
        assertArrayEquals(serial, t.runParallel(dropsEverything, 2), 0f);
        assertArrayEquals(serial, t.runParallel(rejects, 2), 0f);
    }

    @Test
    void partsTogetherComputeTheWholeProduct() {
        Random rnd = new Random(19);
        for (int[] s : new int[][] {{90, 300, 160}, {300, 90, 160}}) {
            Case t = new Case(rnd, true, false, s[0], s[1], s[2], 1f, 0f);
            float[] serial = t.run();
            int parts = VectorSgemm.parts(t.m, t.n, t.k, 3);
            assertEquals(3, parts);
            float[] c = t.c0.clone();
            for (int p = parts - 1; p >= 0; p--) {
                VectorSgemm.sgemmPart(p, parts, t.transA, t.transB, t.m, t.n, t.k, t.alpha, t.a, t.aOff, t.lda, t.b,
                        t.bOff, t.ldb, t.beta, c, t.cOff, t.ldc);
            }
            assertArrayEquals(serial, c, 0f);
        }
        assertEquals(1, VectorSgemm.parts(8, 8, 8, 2), "too small to split");
        assertEquals(1, VectorSgemm.parts(1000, 1000, 1000, 1));
    }

    @Test
    void betaZeroOverwritesNaNsAndAlphaZeroOrEmptyKOnlyScales() {
        Random rnd = new Random(23);
        Case t = new Case(rnd, false, false, 13, 37, 9, 1f, 0f);
        Arrays.fill(t.c0, Float.NaN);
        t.check(t.run(), 1, "NaN in C, beta 0");

        float[] c = {1f, 2f, Float.NaN, 4f};
        VectorSgemm.sgemm(false, false, 2, 2, 0, 1f, new float[0], 0, 1, new float[2], 0, 2, 0f, c, 0, 2);
        assertArrayEquals(new float[] {0f, 0f, 0f, 0f}, c, 0f, "k = 0, beta 0");
        c = new float[] {1f, 2f, 3f, 4f};
        VectorSgemm.sgemm(false, false, 2, 2, 1, 0f, new float[] {Float.NaN, 1f}, 0, 1, new float[2], 0, 2, 2f, c, 0, 2);
        assertArrayEquals(new float[] {2f, 4f, 6f, 8f}, c, 0f, "alpha 0 scales C by beta");
        VectorSgemm.sgemm(false, false, 0, 5, 3, 1f, new float[0], 0, 3, new float[15], 0, 5, 0f, new float[0], 0, 5);
        VectorSgemm.sgemm(false, false, 5, 0, 3, 1f, new float[15], 0, 3, new float[0], 0, 1, 0f, new float[0], 0, 1);
    }

    @Test
    void badArgumentsAreRejectedBeforeAnythingIsWritten() {
        float[] a = new float[12];
        float[] b = new float[12];
        float[] c = new float[9];
        Arrays.fill(c, 5f);
        assertThrows(IllegalArgumentException.class,
                () -> VectorSgemm.sgemm(false, false, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 3), "lda < k");
        assertThrows(IllegalArgumentException.class,
                () -> VectorSgemm.sgemm(false, false, -1, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        assertThrows(IndexOutOfBoundsException.class,
                () -> VectorSgemm.sgemm(false, false, 3, 3, 4, 1f, a, 1, 4, b, 0, 3, 0f, c, 0, 3), "A too short");
        assertThrows(IndexOutOfBoundsException.class,
                () -> VectorSgemm.sgemm(true, false, 3, 3, 4, 1f, a, 0, 3, b, 0, 3, 0f, c, 1, 3), "C too short");
        assertThrows(IllegalArgumentException.class,
                () -> VectorSgemm.sgemmPart(2, 2, false, false, 3, 3, 4, 1f, a, 0, 4, b, 0, 3, 0f, c, 0, 3));
        float[] untouched = new float[9];
        Arrays.fill(untouched, 5f);
        assertArrayEquals(untouched, c, 0f);
    }
}
