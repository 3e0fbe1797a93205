package io.sparkgrad.optim;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

/**
 * A tensor's elements in row-major order, read and written as doubles by the fused update loops
 * of the optimizers and of {@link ClipGrad}.
 *
 * <p>Why a loop over elements rather than a chain of tensor ops: one optimizer step then reads
 * each parameter, gradient and state buffer once and allocates nothing (PyTorch's for-loop
 * implementation allocates a temporary per op), and the same loop serves float32 and float64.
 * Float32 values are widened to double, combined, and rounded once when stored.
 *
 * <p>A contiguous tensor is accessed directly in its storage. A non-contiguous one (a transposed
 * or sliced parameter) is worked on in a contiguous copy that {@link #commit()} copies back.
 */
abstract class Elements {
    private final Tensor target;
    private final Tensor data;

    private Elements(Tensor target, Tensor data) {
        this.target = target;
        this.data = data;
    }

    /** The elements of a float32 or float64 tensor; {@code what} names it in errors. */
    static Elements of(Tensor t, String what) {
        // A tensor on a device is updated through a host working copy that commit() writes back: the
        // optimizers without device kernels (RMSprop, ClipGrad) and SGD/Adam state that the kernels
        // cannot take (ClOptimizers.canUpdate) come this way.
        Tensor data = t.storage().onDevice() ? t.detach().to(io.sparkgrad.Device.CPU) : t.contiguousData();
        if (data.dtype() == DType.FLOAT32) {
            return new F32(t, data);
        }
        if (data.dtype() == DType.FLOAT64) {
            return new F64(t, data);
        }
        throw new IllegalArgumentException(what + " must be float32 or float64, not " + t.dtype());
    }

    abstract double get(int i);

    abstract void set(int i, double v);

    int size() {
        return data.numel();
    }

    /**
     * Makes the writes visible through the tensor: copies a working copy back, and moves the
     * storage's version counter (as any in-place write does) so autograd refuses to use a value
     * it saved before the update. Call inside {@code GradMode.noGrad()}.
     */
    void commit() {
        if (data == target) {
            target.storage().bumpVersion();
        } else {
            target.copy_(data);
        }
    }

    private static final class F32 extends Elements {
        private final float[] a;
        private final int off;

        F32(Tensor target, Tensor data) {
            super(target, data);
            this.a = data.storage().floats();
            this.off = data.storageOffset();
        }

        @Override
        double get(int i) {
            return a[off + i];
        }

        @Override
        void set(int i, double v) {
            a[off + i] = (float) v;
        }
    }

    private static final class F64 extends Elements {
        private final double[] a;
        private final int off;

        F64(Tensor target, Tensor data) {
            super(target, data);
            this.a = data.storage().doubles();
            this.off = data.storageOffset();
        }

        @Override
        double get(int i) {
            return a[off + i];
        }

        @Override
        void set(int i, double v) {
            a[off + i] = v;
        }
    }
}
