package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.Layout;

/** Small helpers shared by the primitives: dtype promotion without recording, masks, checks. */
final class Ops {
    private Ops() {
    }

    /** {@code t} in {@code dtype}, converted outside the graph (the engine casts gradients back). */
    static Tensor cast(Tensor t, DType dtype) {
        if (t.dtype() == dtype) {
            return t;
        }
        Tensor out = Tensor.empty(dtype, t.device(), t.shape());
        Layout.copyInto(t, out);
        return out;
    }

    /** The dtype two float operands compute in (PyTorch's promotion); int64 operands are rejected. */
    static DType common(String op, Tensor a, Tensor b) {
        requireFloat(op, a);
        requireFloat(op, b);
        if (a.dim() == 0 && b.dim() != 0) {
            return b.dtype();
        }
        if (b.dim() == 0 && a.dim() != 0) {
            return a.dtype();
        }
        return DType.promote(a.dtype(), b.dtype());
    }

    static void requireFloat(String op, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": expected a float32 or float64 tensor, got " + t.dtype()
                    + " of shape " + Shapes.str(t.shape()));
        }
    }

    /** A constant 0/1 tensor: {@code x cmp value} elementwise (no gradient flows through a mask). */
    static Tensor mask(io.sparkgrad.backend.BinaryKernel cmp, Tensor x, double value) {
        return io.sparkgrad.backend.Elementwise.binary(cmp, x.detach(), Tensor.scalar(value, x.dtype()), "mask");
    }

    /**
     * Whether a matrix is laid out column by column (a transposed view, such as a Linear layer's
     * {@code weight.t()}). Its gradient is best produced in the same layout, so the transpose's
     * backward hands the weight a contiguous gradient that accumulates without a strided pass.
     */
    static boolean columnMajor(Tensor m) {
        return m.dim() == 2 && m.size(0) > 1 && m.size(1) > 1 && m.stride(0) == 1 && m.stride(1) >= m.size(0);
    }

    static int[] withoutDim(int[] shape, int dim) {
        int[] s = new int[shape.length - 1];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (i != dim) {
                s[k++] = shape[i];
            }
        }
        return s;
    }

    /**
     * The dimensions a reduction runs over, wrapped and sorted (all of them when empty). A 0-d
     * tensor accepts dim 0 or -1, as in PyTorch, but has no dimension to reduce, so none is
     * returned (softmax's backward sums a 0-d gradient over dim 0).
     */
    static int[] reductionDims(int[] dims, int rank) {
        int[] wrapped = Shapes.wrapDims(dims, rank);
        return rank == 0 ? new int[0] : wrapped;
    }

    static int[] withKeptDims(int[] shape, int[] reducedDims) {
        int[] s = shape.clone();
        for (int d : reducedDims) {
            s[d] = 1;
        }
        return s;
    }
}
