package io.sparkgrad.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Float64 matrix product {@code C = alpha·op(A)·op(B) + beta·C} on row-major arrays with the JDK
 * Vector API: {@link VectorSgemm} with {@code double} elements, the same API (named {@code dgemm}),
 * the same blocking, paths, threading and JIT constraints; see that class for the design and
 * measurements. It was generated from VectorSgemm by replacing the element type, so keep the two
 * in step. Differences: {@code DoubleVector.SPECIES_MAX} (also what netlib's VectorBLAS uses for
 * doubles), so NR = 16 doubles with 512-bit vectors, and NARROW applies below 8 columns. KC = 512
 * as for floats (in thread CPU time at n = 1024: KC 128/256/384/512 gave 41/43/45/47 GFLOP/s;
 * OpenBLAS dgemm ~50, netlib's VectorBLAS ~28). Peak is half of float32's (~58 GFLOP/s per core).
 */
public final class VectorDgemm {
    /** The species every kernel uses; see VectorSgemm for why there must be just one. */
    public static final VectorSpecies<Double> SPECIES = chooseSpecies();
    private static final int L = SPECIES.length();

    /**
     * Rows of the micro-tile: 12 where the CPU has 32 vector registers (AVX-512, whatever species
     * was chosen), 6 otherwise (AVX2 has 16); {@code -Dsparkgrad.dgemm.mr=6|12} overrides.
     */
    static final int MR = Integer.getInteger("sparkgrad.dgemm.mr",
            DoubleVector.SPECIES_PREFERRED.vectorBitSize() >= 512 ? 12 : 6) == 12 ? 12 : 6;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a rank-k update (k block). */
    static final int KC = Integer.getInteger("sparkgrad.dgemm.kc", 512);
    /** Rows of a packed A block, a multiple of MR. */
    static final int MC = roundUp(Integer.getInteger("sparkgrad.dgemm.mc", 144), MR);
    /** Columns of a packed B panel, a multiple of NR. */
    static final int NC = roundUp(Integer.getInteger("sparkgrad.dgemm.nc", 2048), NR);

    /**
     * Below this many multiply-adds (m·n·k, ~160³) a product is not worth handing to another
     * thread: waking one and waiting for it cost ~20-40 µs here, and 2 threads ran 128³ slower than
     * one.
     */
    static final long PARALLEL_MIN_MACS = 1L << 22;

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    private VectorDgemm() {
    }

    private static VectorSpecies<Double> chooseSpecies() {
        String bits = System.getProperty("sparkgrad.dgemm.bits");
        if (bits == null) {
            return DoubleVector.SPECIES_MAX;
        }
        switch (bits.trim()) {
            case "max":
                return DoubleVector.SPECIES_MAX;
            case "preferred":
                return DoubleVector.SPECIES_PREFERRED;
            case "128":
                return DoubleVector.SPECIES_128;
            case "256":
                return DoubleVector.SPECIES_256;
            case "512":
                return DoubleVector.SPECIES_512;
            default:
                throw new IllegalArgumentException("sparkgrad.dgemm.bits must be 128, 256, 512, max or preferred, got " + bits);
        }
    }

    /** A short description for logs: species and block sizes. */
    public static String describe() {
        return "VectorDgemm[" + SPECIES.vectorBitSize() + "-bit, MR=" + MR + ", NR=" + NR + ", KC=" + KC
                + ", MC=" + MC + ", NC=" + NC + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // Public entry points

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C} on the calling thread. Arguments as in BLAS
     * {@code dgemm}, but row-major (see VectorSgemm).
     */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k,
                             double alpha, double[] a, int aOff, int lda,
                             double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        compute(path(m, n), transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    /**
     * The same product, split over up to {@code threads} threads: the calling thread takes a part
     * itself and hands the others to {@code executor}. A part that the executor has not started
     * yet when the caller runs out of work is run by the caller, so this never deadlocks, even when
     * called from one of the executor's own threads or when the executor rejects or delays tasks.
     * Small products run on the calling thread alone.
     */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k,
                             double alpha, double[] a, int aOff, int lda,
                             double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc,
                             Executor executor, int threads) {
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        int parts = executor == null ? 1 : parts(m, n, k, threads);
        if (parts <= 1) {
            compute(path(m, n), transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        Job job = new Job(parts, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        for (int i = 1; i < parts; i++) {
            try {
                executor.execute(job);
            } catch (RejectedExecutionException e) {
                break; // the caller does that part itself
            }
        }
        job.run();
        job.await();
    }

    /**
     * How many parts {@link #dgemmPart} should split this product into for {@code maxThreads}
     * threads: 1 when it is too small to gain from threads, never more than there are NR-column
     * (or MR-row) blocks to share.
     */
    public static int parts(int m, int n, int k, int maxThreads) {
        if (maxThreads <= 1 || (long) m * n * k < PARALLEL_MIN_MACS) {
            return 1;
        }
        int blocks = n >= m ? ceilDiv(n, NR) : ceilDiv(m, MR);
        return Math.max(1, Math.min(maxThreads, blocks));
    }

    /**
     * Computes part {@code part} of {@code parts} of the product (a block of columns of C, or of
     * rows when m > n): for callers with their own thread pool, e.g.
     * {@code forRange(parts, 1, (s, e) -> { for (p = s; p < e; p++) dgemmPart(p, parts, ...); })}.
     * The parts write disjoint blocks of C and together compute exactly what {@link #dgemm} does.
     */
    public static void dgemmPart(int part, int parts, boolean transA, boolean transB, int m, int n, int k,
                                 double alpha, double[] a, int aOff, int lda,
                                 double[] b, int bOff, int ldb,
                                 double beta, double[] c, int cOff, int ldc) {
        if (parts < 1 || part < 0 || part >= parts) {
            throw new IllegalArgumentException("part " + part + " of " + parts);
        }
        check(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        // Every part takes the path the whole product would take, so each element of C sees the
        // same operations whatever the number of parts.
        int path = path(m, n);
        if (n >= m) {
            int blocks = ceilDiv(n, NR);
            int j0 = Math.min(n, (int) ((long) blocks * part / parts) * NR);
            int j1 = Math.min(n, (int) ((long) blocks * (part + 1) / parts) * NR);
            if (j1 > j0) {
                compute(path, transA, transB, m, j1 - j0, k, alpha, a, aOff, lda,
                        b, bOff + (transB ? j0 * ldb : j0), ldb, beta, c, cOff + j0, ldc);
            }
        } else {
            int blocks = ceilDiv(m, MR);
            int i0 = Math.min(m, (int) ((long) blocks * part / parts) * MR);
            int i1 = Math.min(m, (int) ((long) blocks * (part + 1) / parts) * MR);
            if (i1 > i0) {
                compute(path, transA, transB, i1 - i0, n, k, alpha, a, aOff + (transA ? i0 : i0 * lda), lda,
                        b, bOff, ldb, beta, c, cOff + i0 * ldc, ldc);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Argument checks: done once, before anything is written

    private static void check(boolean transA, boolean transB, int m, int n, int k,
                              double[] a, int aOff, int lda, double[] b, int bOff, int ldb,
                              double[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative size: m=" + m + ", n=" + n + ", k=" + k);
        }
        checkMatrix("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkMatrix("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    /** A stored row-major {@code rows×cols} matrix must fit its array. */
    private static void checkMatrix(String name, double[] x, int off, int ld, int rows, int cols) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("ld" + name.toLowerCase() + "=" + ld + " is less than the "
                    + cols + " columns of " + name);
        }
        if (rows == 0 || cols == 0) {
            return;
        }
        long last = (long) off + (long) (rows - 1) * ld + cols - 1;
        if (off < 0 || last >= x.length) {
            throw new IndexOutOfBoundsException(name + ": " + rows + "×" + cols + " at offset " + off
                    + " with leading dimension " + ld + " needs index " + last + ", array length " + x.length);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Paths: the blocked algorithm, and two shapes it serves badly

    /** The blocked (packed) algorithm. */
    private static final int PACKED = 0;
    /** At most {@link #SMALL_M} rows (a vector times a matrix): no packing, B is read once per row. */
    private static final int ROWS = 1;
    /** Fewer than NR/2 columns and more rows: computed as the transposed product, which fills the tiles. */
    private static final int NARROW = 2;
    /** Row count up to which {@link #ROWS} beats a 12-row tile that would be mostly padding. */
    static final int SMALL_M = 4;
    /** Rows of C per transposed block in the {@link #NARROW} path (bounds its scratch buffer). */
    private static final int NARROW_ROWS = 2048;

    private static int path(int m, int n) {
        if (m <= SMALL_M) {
            return ROWS;
        }
        if (n < NR / 2 && n < m) {
            return NARROW;
        }
        return PACKED;
    }

    private static void compute(int path, boolean transA, boolean transB, int m, int n, int k,
                                double alpha, double[] a, int aOff, int lda,
                                double[] b, int bOff, int ldb,
                                double beta, double[] c, int cOff, int ldc) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0 || alpha == 0d) {
            scale(m, n, beta, c, cOff, ldc);
            return;
        }
        if (beta != 0d && beta != 1d) {
            // The kernels only overwrite (beta 0) or accumulate (beta 1): scale C first.
            scale(m, n, beta, c, cOff, ldc);
            beta = 1d;
        }
        if (path == ROWS) {
            rows(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else if (path == NARROW) {
            narrow(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            packed(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    /** The Goto/BLIS loops of VectorSgemm's class comment; beta is 0 or 1. */
    private static void packed(boolean transA, boolean transB, int m, int n, int k,
                               double alpha, double[] a, int aOff, int lda,
                               double[] b, int bOff, int ldb,
                               double beta, double[] c, int cOff, int ldc) {
        Buffers buf = BUFFERS.get();
        // Equal blocks: k = 700 runs as 2×350 rather than 512 + 188.
        int kBlocks = ceilDiv(k, KC);
        int kcMax = ceilDiv(k, kBlocks);
        int mBlocks = ceilDiv(m, MC);
        int mcMax = roundUp(ceilDiv(m, mBlocks), MR);
        int ncMax = roundUp(Math.min(n, NC), NR);
        double[] ap = buf.packedA(mcMax * kcMax);
        double[] bp = buf.packedB(kcMax * ncMax);
        double[] tile = buf.tile;

        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0, kb = 0; pc < k; kb++) {
                int kc = (int) ((long) k * (kb + 1) / kBlocks) - pc;
                if (transB) {
                    packBT(kc, nc, b, bOff + jc * ldb + pc, ldb, bp);
                } else {
                    packBN(kc, nc, b, bOff + pc * ldb + jc, ldb, bp);
                }
                double betaBlock = pc == 0 ? beta : 1d;
                for (int ic = 0; ic < m; ic += mcMax) {
                    int mc = Math.min(mcMax, m - ic);
                    if (transA) {
                        packAT(mc, kc, alpha, a, aOff + pc * lda + ic, lda, ap);
                    } else {
                        packAN(mc, kc, alpha, a, aOff + ic * lda + pc, lda, ap);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int cCol = cOff + jc + jr;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            int cAt = cCol + (ic + ir) * ldc;
                            if (mr == MR && nr == NR) {
                                kernel(kc, ap, ir * kc, bp, jr * kc, c, cAt, ldc, betaBlock);
                            } else {
                                // Edge tile: compute the whole padded tile aside, merge what exists.
                                kernel(kc, ap, ir * kc, bp, jr * kc, tile, 0, NR, 0d);
                                merge(tile, mr, nr, c, cAt, ldc, betaBlock);
                            }
                        }
                    }
                }
                pc += kc;
            }
        }
    }

    private static void kernel(int kc, double[] ap, int ai, double[] bp, int bi, double[] c, int ci, int ldc,
                               double beta) {
        if (MR == 12) {
            kernel12(kc, ap, ai, bp, bi, c, ci, ldc, beta);
        } else {
            kernel6(kc, ap, ai, bp, bi, c, ci, ldc, beta);
        }
    }

    /**
     * Few rows: row i of C is {@code alpha·A(i,:)·op(B)}, computed straight from B without packing
     * (packing B would cost more than the product, and a 12-row tile would be mostly padding).
     */
    private static void rows(boolean transA, boolean transB, int m, int n, int k,
                             double alpha, double[] a, int aOff, int lda,
                             double[] b, int bOff, int ldb,
                             double beta, double[] c, int cOff, int ldc) {
        double[] row = BUFFERS.get().packedA(k);
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                row[p] = alpha * (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
            }
            if (transB) {
                rowTimesBt(row, k, n, b, bOff, ldb, beta, c, cOff + i * ldc);
            } else {
                rowTimesB(row, k, n, b, bOff, ldb, beta, c, cOff + i * ldc);
            }
        }
    }

    /** {@code C[0:n] (=|+=) row·B} for B stored k×n: four vectors of columns at a time, over all of k. */
    private static void rowTimesB(double[] row, int k, int n, double[] b, int bOff, int ldb, double beta,
                                  double[] c, int ci) {
        final VectorSpecies<Double> s = SPECIES;
        int j = 0;
        for (; j + 4 * L <= n; j += 4 * L) {
            DoubleVector s0, s1, s2, s3;
            if (beta == 0d) {
                s0 = DoubleVector.zero(s);
                s1 = s0;
                s2 = s0;
                s3 = s0;
            } else {
                s0 = DoubleVector.fromArray(s, c, ci + j);
                s1 = DoubleVector.fromArray(s, c, ci + j + L);
                s2 = DoubleVector.fromArray(s, c, ci + j + 2 * L);
                s3 = DoubleVector.fromArray(s, c, ci + j + 3 * L);
            }
            for (int p = 0; p < k; p++) {
                DoubleVector x = DoubleVector.broadcast(s, row[p]);
                int q = bOff + p * ldb + j;
                s0 = x.fma(DoubleVector.fromArray(s, b, q), s0);
                s1 = x.fma(DoubleVector.fromArray(s, b, q + L), s1);
                s2 = x.fma(DoubleVector.fromArray(s, b, q + 2 * L), s2);
                s3 = x.fma(DoubleVector.fromArray(s, b, q + 3 * L), s3);
            }
            s0.intoArray(c, ci + j);
            s1.intoArray(c, ci + j + L);
            s2.intoArray(c, ci + j + 2 * L);
            s3.intoArray(c, ci + j + 3 * L);
        }
        for (; j + L <= n; j += L) {
            DoubleVector s0 = beta == 0d ? DoubleVector.zero(s) : DoubleVector.fromArray(s, c, ci + j);
            for (int p = 0; p < k; p++) {
                s0 = DoubleVector.broadcast(s, row[p]).fma(DoubleVector.fromArray(s, b, bOff + p * ldb + j), s0);
            }
            s0.intoArray(c, ci + j);
        }
        for (; j < n; j++) {
            double sum = beta == 0d ? 0d : c[ci + j];
            for (int p = 0; p < k; p++) {
                sum = Math.fma(row[p], b[bOff + p * ldb + j], sum);
            }
            c[ci + j] = sum;
        }
    }

    /** {@code C[0:n] (=|+=) row·Bᵀ} for B stored n×k: one dot product per column, both operands contiguous. */
    private static void rowTimesBt(double[] row, int k, int n, double[] b, int bOff, int ldb, double beta,
                                   double[] c, int ci) {
        final VectorSpecies<Double> s = SPECIES;
        for (int j = 0; j < n; j++) {
            int q = bOff + j * ldb;
            DoubleVector s0 = DoubleVector.zero(s);
            DoubleVector s1 = s0;
            DoubleVector s2 = s0;
            DoubleVector s3 = s0;
            int p = 0;
            for (; p + 4 * L <= k; p += 4 * L) {
                s0 = DoubleVector.fromArray(s, row, p).fma(DoubleVector.fromArray(s, b, q + p), s0);
                s1 = DoubleVector.fromArray(s, row, p + L).fma(DoubleVector.fromArray(s, b, q + p + L), s1);
                s2 = DoubleVector.fromArray(s, row, p + 2 * L).fma(DoubleVector.fromArray(s, b, q + p + 2 * L), s2);
                s3 = DoubleVector.fromArray(s, row, p + 3 * L).fma(DoubleVector.fromArray(s, b, q + p + 3 * L), s3);
            }
            for (; p + L <= k; p += L) {
                s0 = DoubleVector.fromArray(s, row, p).fma(DoubleVector.fromArray(s, b, q + p), s0);
            }
            double sum = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; p < k; p++) {
                sum = Math.fma(row[p], b[q + p], sum);
            }
            c[ci + j] = beta == 0d ? sum : c[ci + j] + sum;
        }
    }

    /**
     * Few columns, more rows: {@code Cᵀ = op(B)ᵀ·op(A)ᵀ} through the packed path into a scratch
     * block (n rows of 12-row tiles instead of n columns of 32-column tiles), then transposed into C.
     */
    private static void narrow(boolean transA, boolean transB, int m, int n, int k,
                               double alpha, double[] a, int aOff, int lda,
                               double[] b, int bOff, int ldb,
                               double beta, double[] c, int cOff, int ldc) {
        for (int i0 = 0; i0 < m; i0 += NARROW_ROWS) {
            int rows = Math.min(NARROW_ROWS, m - i0);
            double[] t = BUFFERS.get().transposed(n * rows);
            // op(B)ᵀ as the left operand is stored transposed exactly when op(B) is not, and likewise op(A)ᵀ.
            packed(!transB, !transA, n, rows, k, alpha, b, bOff, ldb, a, aOff + (transA ? i0 : i0 * lda), lda,
                    0d, t, 0, rows);
            for (int i = 0; i < rows; i++) {
                int ci = cOff + (i0 + i) * ldc;
                if (beta == 0d) {
                    for (int j = 0; j < n; j++) {
                        c[ci + j] = t[j * rows + i];
                    }
                } else {
                    for (int j = 0; j < n; j++) {
                        c[ci + j] += t[j * rows + i];
                    }
                }
            }
        }
    }

    /** {@code C = beta·C} (zeros when beta is 0, whatever C held). */
    private static void scale(int m, int n, double beta, double[] c, int cOff, int ldc) {
        if (beta == 1d) {
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0d) {
                java.util.Arrays.fill(c, row, row + n, 0d);
            } else {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /** Stores (beta 0) or adds (beta 1) an edge tile, computed with ldc = NR, into the mr×nr corner of C that exists. */
    private static void merge(double[] tile, int mr, int nr, double[] c, int cAt, int ldc, double beta) {
        for (int r = 0; r < mr; r++) {
            int t = r * NR;
            int row = cAt + r * ldc;
            if (beta == 0d) {
                System.arraycopy(tile, t, c, row, nr);
            } else {
                for (int j = 0; j < nr; j++) {
                    c[row + j] += tile[t + j];
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Packing. Packed A: micro-panels of MR rows, ap[panel·MR·kc + p·MR + r] = alpha·A[i0+r, p];
    // packed B: micro-panels of NR columns, bp[panel·NR·kc + p·NR + j] = B[p, j0+j]. Rows or columns
    // past the matrix edge are zeros, so the micro-kernel never needs a bound.

    /**
     * A not transposed: row i of the block starts at {@code a[off + i*lda]}. Each row is read
     * contiguously (reading the MR rows side by side was 2-3× slower: with a power-of-two lda the
     * MR streams fall into the same cache sets).
     */
    private static void packAN(int mc, int kc, double alpha, double[] a, int off, int lda, double[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = ir * kc;
            for (int r = 0; r < mr; r++) {
                int s = off + (ir + r) * lda;
                int d = dst + r;
                for (int p = 0; p < kc; p++) {
                    ap[d + p * MR] = alpha * a[s + p];
                }
            }
            for (int r = mr; r < MR; r++) {
                for (int p = 0; p < kc; p++) {
                    ap[dst + r + p * MR] = 0d;
                }
            }
        }
    }

    /** A transposed: column p of the block (MR consecutive rows of op(A)) is contiguous at {@code a[off + p*lda]}. */
    private static void packAT(int mc, int kc, double alpha, double[] a, int off, int lda, double[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = ir * kc;
            for (int p = 0; p < kc; p++) {
                int d = dst + p * MR;
                int s = off + p * lda + ir;
                for (int r = 0; r < mr; r++) {
                    ap[d + r] = alpha * a[s + r];
                }
                for (int r = mr; r < MR; r++) {
                    ap[d + r] = 0d;
                }
            }
        }
    }

    /** B not transposed: a row of a micro-panel is NR contiguous doubles at {@code b[off + p*ldb + jr]}. */
    private static void packBN(int kc, int nc, double[] b, int off, int ldb, double[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            int src = off + jr;
            for (int p = 0; p < kc; p++) {
                int d = dst + p * NR;
                System.arraycopy(b, src + p * ldb, bp, d, nr);
                if (nr < NR) {
                    java.util.Arrays.fill(bp, d + nr, d + NR, 0d);
                }
            }
        }
    }

    /**
     * B transposed: column j of op(B) is contiguous at {@code b[off + j*ldb]}. Read in runs of 8
     * along k from each of the NR columns, so every cache line fetched is used at once (one element
     * at a time across NR columns thrashed the cache with power-of-two ldb: 7× slower).
     */
    private static void packBT(int kc, int nc, double[] b, int off, int ldb, double[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            int src = off + jr * ldb;
            int p = 0;
            for (; p + 8 <= kc; p += 8) {
                for (int j = 0; j < nr; j++) {
                    int q = src + j * ldb + p;
                    int d = dst + p * NR + j;
                    bp[d] = b[q];
                    bp[d + NR] = b[q + 1];
                    bp[d + 2 * NR] = b[q + 2];
                    bp[d + 3 * NR] = b[q + 3];
                    bp[d + 4 * NR] = b[q + 4];
                    bp[d + 5 * NR] = b[q + 5];
                    bp[d + 6 * NR] = b[q + 6];
                    bp[d + 7 * NR] = b[q + 7];
                }
            }
            for (; p < kc; p++) {
                int d = dst + p * NR;
                for (int j = 0; j < nr; j++) {
                    bp[d + j] = b[src + j * ldb + p];
                }
            }
            if (nr < NR) {
                for (int q = 0; q < kc; q++) {
                    java.util.Arrays.fill(bp, dst + q * NR + nr, dst + q * NR + NR, 0d);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Micro-kernels: an MR×NR tile of C in registers, kc rank-1 updates from the packed panels.
    // Written out by hand so that every accumulator is a local the JIT keeps in a register; the
    // vector operators are constants here (an operator passed as a parameter loses the fast path).

    /** 12 rows × 2 vectors: 24 accumulators, for 32 vector registers. */
    private static void kernel12(int kc, double[] ap, int ai, double[] bp, int bi, double[] c, int ci, int ldc,
                                 double beta) {
        final VectorSpecies<Double> s = SPECIES;
        // The accumulators start from C (beta 1) or from zero (beta 0), so the tile is only stored at the end.
        DoubleVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        DoubleVector c60, c61, c70, c71, c80, c81, c90, c91, ca0, ca1, cb0, cb1;
        if (beta == 0d) {
            DoubleVector z = DoubleVector.zero(s);
            c00 = z;
            c01 = z;
            c10 = z;
            c11 = z;
            c20 = z;
            c21 = z;
            c30 = z;
            c31 = z;
            c40 = z;
            c41 = z;
            c50 = z;
            c51 = z;
            c60 = z;
            c61 = z;
            c70 = z;
            c71 = z;
            c80 = z;
            c81 = z;
            c90 = z;
            c91 = z;
            ca0 = z;
            ca1 = z;
            cb0 = z;
            cb1 = z;
        } else {
            c00 = DoubleVector.fromArray(s, c, ci);
            c01 = DoubleVector.fromArray(s, c, ci + L);
            c10 = DoubleVector.fromArray(s, c, ci + ldc);
            c11 = DoubleVector.fromArray(s, c, ci + ldc + L);
            c20 = DoubleVector.fromArray(s, c, ci + 2 * ldc);
            c21 = DoubleVector.fromArray(s, c, ci + 2 * ldc + L);
            c30 = DoubleVector.fromArray(s, c, ci + 3 * ldc);
            c31 = DoubleVector.fromArray(s, c, ci + 3 * ldc + L);
            c40 = DoubleVector.fromArray(s, c, ci + 4 * ldc);
            c41 = DoubleVector.fromArray(s, c, ci + 4 * ldc + L);
            c50 = DoubleVector.fromArray(s, c, ci + 5 * ldc);
            c51 = DoubleVector.fromArray(s, c, ci + 5 * ldc + L);
            c60 = DoubleVector.fromArray(s, c, ci + 6 * ldc);
            c61 = DoubleVector.fromArray(s, c, ci + 6 * ldc + L);
            c70 = DoubleVector.fromArray(s, c, ci + 7 * ldc);
            c71 = DoubleVector.fromArray(s, c, ci + 7 * ldc + L);
            c80 = DoubleVector.fromArray(s, c, ci + 8 * ldc);
            c81 = DoubleVector.fromArray(s, c, ci + 8 * ldc + L);
            c90 = DoubleVector.fromArray(s, c, ci + 9 * ldc);
            c91 = DoubleVector.fromArray(s, c, ci + 9 * ldc + L);
            ca0 = DoubleVector.fromArray(s, c, ci + 10 * ldc);
            ca1 = DoubleVector.fromArray(s, c, ci + 10 * ldc + L);
            cb0 = DoubleVector.fromArray(s, c, ci + 11 * ldc);
            cb1 = DoubleVector.fromArray(s, c, ci + 11 * ldc + L);
        }
        for (int p = 0; p < kc; p++) {
            int ao = ai + p * 12;
            int bo = bi + p * NR;
            DoubleVector b0 = DoubleVector.fromArray(s, bp, bo);
            DoubleVector b1 = DoubleVector.fromArray(s, bp, bo + L);
            DoubleVector x;
            x = DoubleVector.broadcast(s, ap[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(s, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(s, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(s, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = DoubleVector.broadcast(s, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = DoubleVector.broadcast(s, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = DoubleVector.broadcast(s, ap[ao + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = DoubleVector.broadcast(s, ap[ao + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
            x = DoubleVector.broadcast(s, ap[ao + 8]);
            c80 = x.fma(b0, c80);
            c81 = x.fma(b1, c81);
            x = DoubleVector.broadcast(s, ap[ao + 9]);
            c90 = x.fma(b0, c90);
            c91 = x.fma(b1, c91);
            x = DoubleVector.broadcast(s, ap[ao + 10]);
            ca0 = x.fma(b0, ca0);
            ca1 = x.fma(b1, ca1);
            x = DoubleVector.broadcast(s, ap[ao + 11]);
            cb0 = x.fma(b0, cb0);
            cb1 = x.fma(b1, cb1);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c60.intoArray(c, ci + 6 * ldc);
        c61.intoArray(c, ci + 6 * ldc + L);
        c70.intoArray(c, ci + 7 * ldc);
        c71.intoArray(c, ci + 7 * ldc + L);
        c80.intoArray(c, ci + 8 * ldc);
        c81.intoArray(c, ci + 8 * ldc + L);
        c90.intoArray(c, ci + 9 * ldc);
        c91.intoArray(c, ci + 9 * ldc + L);
        ca0.intoArray(c, ci + 10 * ldc);
        ca1.intoArray(c, ci + 10 * ldc + L);
        cb0.intoArray(c, ci + 11 * ldc);
        cb1.intoArray(c, ci + 11 * ldc + L);
    }

    /** 6 rows × 2 vectors: 12 accumulators, for 16 vector registers (AVX2). */
    private static void kernel6(int kc, double[] ap, int ai, double[] bp, int bi, double[] c, int ci, int ldc,
                                double beta) {
        final VectorSpecies<Double> s = SPECIES;
        // The accumulators start from C (beta 1) or from zero (beta 0), so the tile is only stored at the end.
        DoubleVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (beta == 0d) {
            DoubleVector z = DoubleVector.zero(s);
            c00 = z;
            c01 = z;
            c10 = z;
            c11 = z;
            c20 = z;
            c21 = z;
            c30 = z;
            c31 = z;
            c40 = z;
            c41 = z;
            c50 = z;
            c51 = z;
        } else {
            c00 = DoubleVector.fromArray(s, c, ci);
            c01 = DoubleVector.fromArray(s, c, ci + L);
            c10 = DoubleVector.fromArray(s, c, ci + ldc);
            c11 = DoubleVector.fromArray(s, c, ci + ldc + L);
            c20 = DoubleVector.fromArray(s, c, ci + 2 * ldc);
            c21 = DoubleVector.fromArray(s, c, ci + 2 * ldc + L);
            c30 = DoubleVector.fromArray(s, c, ci + 3 * ldc);
            c31 = DoubleVector.fromArray(s, c, ci + 3 * ldc + L);
            c40 = DoubleVector.fromArray(s, c, ci + 4 * ldc);
            c41 = DoubleVector.fromArray(s, c, ci + 4 * ldc + L);
            c50 = DoubleVector.fromArray(s, c, ci + 5 * ldc);
            c51 = DoubleVector.fromArray(s, c, ci + 5 * ldc + L);
        }
        for (int p = 0; p < kc; p++) {
            int ao = ai + p * 6;
            int bo = bi + p * NR;
            DoubleVector b0 = DoubleVector.fromArray(s, bp, bo);
            DoubleVector b1 = DoubleVector.fromArray(s, bp, bo + L);
            DoubleVector x;
            x = DoubleVector.broadcast(s, ap[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = DoubleVector.broadcast(s, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = DoubleVector.broadcast(s, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = DoubleVector.broadcast(s, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = DoubleVector.broadcast(s, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = DoubleVector.broadcast(s, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
    }

    // ---------------------------------------------------------------------------------------------

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private static int roundUp(int x, int multiple) {
        return ceilDiv(Math.max(x, 1), multiple) * multiple;
    }

    /** Per-thread packing space, grown on demand and then reused. */
    private static final class Buffers {
        double[] a = new double[0];
        double[] b = new double[0];
        double[] t = new double[0];
        final double[] tile = new double[MR * NR];

        double[] packedA(int size) {
            if (a.length < size) {
                a = new double[size];
            }
            return a;
        }

        double[] transposed(int size) {
            if (t.length < size) {
                t = new double[size];
            }
            return t;
        }

        double[] packedB(int size) {
            if (b.length < size) {
                b = new double[size];
            }
            return b;
        }
    }

    /** One parallel product: parts are claimed by index, so each runs exactly once, by whoever comes first. */
    private static final class Job implements Runnable {
        private final int parts;
        private final boolean transA;
        private final boolean transB;
        private final int m;
        private final int n;
        private final int k;
        private final double alpha;
        private final double[] a;
        private final int aOff;
        private final int lda;
        private final double[] b;
        private final int bOff;
        private final int ldb;
        private final double beta;
        private final double[] c;
        private final int cOff;
        private final int ldc;
        private final Thread caller = Thread.currentThread();
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int parts, boolean transA, boolean transB, int m, int n, int k, double alpha,
            double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc) {
            this.parts = parts;
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.aOff = aOff;
            this.lda = lda;
            this.b = b;
            this.bOff = bOff;
            this.ldb = ldb;
            this.beta = beta;
            this.c = c;
            this.cOff = cOff;
            this.ldc = ldc;
        }

        @Override
        public void run() {
            int part;
            while ((part = next.getAndIncrement()) < parts) {
                try {
                    dgemmPart(part, parts, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb,
                            beta, c, cOff, ldc);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == parts) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        void await() {
            while (done.get() < parts) {
                LockSupport.park(this);
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }
}
