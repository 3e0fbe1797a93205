package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

/** Gather along a dimension and its adjoint, scatter-add. Indices are int64 tensors. */
public final class Indexing {
    private Indexing() {
    }

    /** {@code out[i][j][k] = x[i][index[i][j][k]][k]} for {@code dim == 1} (and likewise for any dim). */
    public static Tensor gather(Tensor x, int dim, Tensor index) {
        if (DeviceCheck.anyOnDevice(x, index)) {
            return io.sparkgrad.backend.opencl.ClOps.gather(x, dim, index);
        }
        checkIndex(x, dim, index, "gather", true);
        Tensor out = Tensor.empty(x.dtype(), index.shape());
        int[] pos = new int[index.dim()];
        int n = index.numel();
        Storage xs = x.storage();
        Storage os = out.storage();
        for (int e = 0; e < n; e++) {
            long idx = readIndex(index, pos);
            int src = x.storageOffset();
            for (int d = 0; d < pos.length; d++) {
                src += (d == dim ? (int) idx : pos[d]) * x.stride(d);
            }
            if (xs.dtype() == DType.FLOAT32) {
                os.floats()[e] = xs.floats()[src];
            } else {
                os.doubles()[e] = xs.doubles()[src];
            }
            advance(pos, index.shape());
        }
        return out;
    }

    /** A new tensor of {@code shape} holding zeros plus, for every element of src, {@code out[.. index ..] += src}. */
    public static Tensor scatterAddIntoZeros(int[] shape, int dim, Tensor index, Tensor src) {
        if (DeviceCheck.anyOnDevice(index, src)) {
            return io.sparkgrad.backend.opencl.ClOps.scatterAddIntoZeros(shape, dim, index, src);
        }
        Tensor out = Tensor.zeros(src.dtype(), shape);
        checkIndex(out, dim, index, "scatterAdd", false);
        int[] pos = new int[index.dim()];
        int n = index.numel();
        Storage ss = src.storage();
        Storage os = out.storage();
        int[] outStrides = out.stride();
        for (int e = 0; e < n; e++) {
            long idx = readIndex(index, pos);
            int dst = 0;
            int so = src.storageOffset();
            for (int d = 0; d < pos.length; d++) {
                dst += (d == dim ? (int) idx : pos[d]) * outStrides[d];
                so += pos[d] * src.stride(d);
            }
            if (ss.dtype() == DType.FLOAT32) {
                os.floats()[dst] += ss.floats()[so];
            } else {
                os.doubles()[dst] += ss.doubles()[so];
            }
            advance(pos, index.shape());
        }
        return out;
    }

    private static long readIndex(Tensor index, int[] pos) {
        int off = index.storageOffset();
        for (int d = 0; d < pos.length; d++) {
            off += pos[d] * index.stride(d);
        }
        return index.storage().longs()[off];
    }

    private static void advance(int[] pos, int[] shape) {
        for (int d = pos.length - 1; d >= 0; d--) {
            if (++pos[d] < shape[d]) {
                return;
            }
            pos[d] = 0;
        }
    }

    /** Index rank equals the input's; its sizes fit the input's (except along dim); every value is in range. */
    private static void checkIndex(Tensor x, int dim, Tensor index, String op, boolean gather) {
        if (index.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": index must be an int64 tensor, got " + index.dtype());
        }
        if (index.dim() != x.dim()) {
            throw new IllegalArgumentException(op + ": index " + Shapes.str(index.shape()) + " must have as many "
                    + "dimensions as the input " + Shapes.str(x.shape()));
        }
        for (int d = 0; d < x.dim(); d++) {
            if (d != dim && index.size(d) > x.size(d)) {
                throw new IllegalArgumentException(op + ": index " + Shapes.str(index.shape()) + " is larger than the "
                        + "input " + Shapes.str(x.shape()) + " in dimension " + d);
            }
        }
        int[] pos = new int[index.dim()];
        int limit = x.size(dim);
        for (int e = 0; e < index.numel(); e++) {
            long v = readIndex(index, pos);
            if (v < 0 || v >= limit) {
                throw new IndexOutOfBoundsException(op + ": index " + v + " at position " + java.util.Arrays.toString(pos)
                        + " is out of bounds for dimension " + dim + " with size " + limit);
            }
            advance(pos, index.shape());
        }
    }
}
