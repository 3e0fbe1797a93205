package io.sparkgrad.backend;

import dev.ludovic.netlib.blas.BLAS;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.logging.Logger;

/**
 * Matrix products through the BLAS facade Spark MLlib uses ({@code dev.ludovic.netlib}): native
 * OpenBLAS when the machine has it, its pure-Java vectorized path otherwise. BLAS is column-major
 * and our tensors are row-major, so {@code C = A·B} is computed as {@code Cᵀ = Bᵀ·Aᵀ}: a row-major
 * matrix is its own transpose read column-major, and a transposed view needs no copy at all
 * (it is passed with the 'T' flag).
 */
public final class Gemm {
    private static final Logger LOG = Logger.getLogger(Gemm.class.getName());
    private static final BLAS BLAS_IMPL = BLAS.getInstance();

    static {
        LOG.info("Sparkgrad matrix products use " + BLAS_IMPL.getClass().getName());
    }

    private Gemm() {
    }

    /** The BLAS implementation the facade chose (native, vector or scalar Java). */
    public static String implementation() {
        return BLAS_IMPL.getClass().getSimpleName();
    }

    /** {@code [m,k] · [k,n] -> [m,n]}. */
    public static Tensor mm(Tensor a, Tensor b) {
        int m = a.size(0);
        int n = b.size(1);
        Tensor out = Tensor.empty(a.dtype(), m, n);
        gemm(a, a.storageOffset(), a.stride(0), a.stride(1), m, a.size(1),
                b, b.storageOffset(), b.stride(0), b.stride(1), n, out, 0);
        return out;
    }

    /** {@code [B,m,k] · [B,k,n] -> [B,m,n]}. */
    public static Tensor bmm(Tensor a, Tensor b) {
        int batch = a.size(0);
        int m = a.size(1);
        int k = a.size(2);
        int n = b.size(2);
        Tensor out = Tensor.empty(a.dtype(), batch, m, n);
        for (int i = 0; i < batch; i++) {
            gemm(a, a.storageOffset() + i * a.stride(0), a.stride(1), a.stride(2), m, k,
                    b, b.storageOffset() + i * b.stride(0), b.stride(1), b.stride(2), n, out, i * m * n);
        }
        return out;
    }

    private static void gemm(Tensor a, int aOff, int aRowStride, int aColStride, int m, int k,
                             Tensor b, int bOff, int bRowStride, int bColStride, int n, Tensor out, int outOff) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            Layout.fill(out, 0);
            return;
        }
        Operand pa = Operand.of(a, aOff, aRowStride, aColStride, m, k);
        Operand pb = Operand.of(b, bOff, bRowStride, bColStride, k, n);
        if (a.dtype() == DType.FLOAT32) {
            BLAS_IMPL.sgemm(pb.trans, pa.trans, n, m, k, 1f, pb.t.storage().floats(), pb.off, pb.ld,
                    pa.t.storage().floats(), pa.off, pa.ld, 0f, out.storage().floats(), outOff, n);
        } else {
            BLAS_IMPL.dgemm(pb.trans, pa.trans, n, m, k, 1d, pb.t.storage().doubles(), pb.off, pb.ld,
                    pa.t.storage().doubles(), pa.off, pa.ld, 0d, out.storage().doubles(), outOff, n);
        }
    }

    /** A row-major [rows, cols] matrix as BLAS wants it: a transpose flag, a leading dimension, an offset. */
    private static final class Operand {
        final Tensor t;
        final int off;
        final String trans;
        final int ld;

        private Operand(Tensor t, int off, String trans, int ld) {
            this.t = t;
            this.off = off;
            this.trans = trans;
            this.ld = ld;
        }

        static Operand of(Tensor t, int off, int rowStride, int colStride, int rows, int cols) {
            if ((colStride == 1 || cols == 1) && rowStride >= Math.max(1, cols)) {
                return new Operand(t, off, "N", Math.max(rowStride, 1));
            }
            if ((rowStride == 1 || rows == 1) && colStride >= Math.max(1, rows)) {
                return new Operand(t, off, "T", Math.max(colStride, 1));
            }
            // Any other layout (broadcast or sliced with gaps): gather this one matrix first.
            Tensor view = Tensor.view(t.storage(), new int[] {rows, cols}, new int[] {rowStride, colStride}, off);
            Tensor dense = Layout.contiguousCopy(view);
            return new Operand(dense, 0, "N", Math.max(cols, 1));
        }
    }
}
