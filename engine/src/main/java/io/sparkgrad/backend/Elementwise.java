package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

/** Runs elementwise kernels over tensors of any layout, broadcasting binary operands. */
public final class Elementwise {
    private Elementwise() {
    }

    /** {@code kernel(x)} into a new contiguous tensor. */
    public static Tensor unary(UnaryKernel kernel, Tensor x) {
        requireFloat(x, kernel.name());
        Tensor out = Tensor.empty(x.dtype(), x.shape());
        StridedPlan plan = StridedPlan.of(x.shape(), out.stride(), x.stride());
        Storage xs = x.storage();
        Storage os = out.storage();
        for (int r = 0; r < plan.rows; r++) {
            int oo = plan.rowOffset(0, r);
            int xo = x.storageOffset() + plan.rowOffset(1, r);
            if (plan.innerStride(1) == 1) {
                if (xs.dtype() == DType.FLOAT32) {
                    kernel.run(xs.floats(), xo, os.floats(), oo, plan.inner);
                } else {
                    kernel.run(xs.doubles(), xo, os.doubles(), oo, plan.inner);
                }
            } else {
                // Rare (a transposed view): gather the run first so the kernel sees unit stride.
                Tensor run = Layout.contiguousCopy(x);
                return unary(kernel, run);
            }
        }
        return out;
    }

    /** {@code kernel(a, b)} with NumPy broadcasting into a new contiguous tensor; a and b share a dtype. */
    public static Tensor binary(BinaryKernel kernel, Tensor a, Tensor b, String op) {
        int[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        Tensor out = Tensor.empty(a.dtype(), shape);
        binaryInto(kernel, a, b, out, op);
        return out;
    }

    /** {@code out = kernel(a, b)}, where {@code out} may alias {@code a} (in-place ops). */
    public static void binaryInto(BinaryKernel kernel, Tensor a, Tensor b, Tensor out, String op) {
        requireFloat(a, op);
        requireFloat(b, op);
        if (a.dtype() != b.dtype() || out.dtype() != a.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + ", " + b.dtype() + " into "
                    + out.dtype() + ")");
        }
        int[] shape = out.shape();
        StridedPlan plan = StridedPlan.of(shape, out.stride(), a.broadcastStrides(shape, op),
                b.broadcastStrides(shape, op));
        int os = plan.innerStride(0);
        if (os != 1) {
            Tensor tmp = binary(kernel, a, b, op);
            Layout.copyInto(tmp, out);
            return;
        }
        int as = plan.innerStride(1);
        int bs = plan.innerStride(2);
        Storage sa = a.storage();
        Storage sb = b.storage();
        Storage so = out.storage();
        boolean f32 = a.dtype() == DType.FLOAT32;
        for (int r = 0; r < plan.rows; r++) {
            int oo = out.storageOffset() + plan.rowOffset(0, r);
            int ao = a.storageOffset() + plan.rowOffset(1, r);
            int bo = b.storageOffset() + plan.rowOffset(2, r);
            if (f32) {
                kernel.run(sa.floats(), ao, as, sb.floats(), bo, bs, so.floats(), oo, plan.inner);
            } else {
                kernel.run(sa.doubles(), ao, as, sb.doubles(), bo, bs, so.doubles(), oo, plan.inner);
            }
        }
    }

    /** {@code cond != 0 ? x : y}, all three broadcast together. */
    public static Tensor where(Tensor cond, Tensor x, Tensor y) {
        int[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape(), x.shape()), y.shape());
        Tensor out = Tensor.empty(x.dtype(), shape);
        StridedPlan plan = StridedPlan.of(shape, out.stride(), cond.broadcastStrides(shape, "where"),
                x.broadcastStrides(shape, "where"), y.broadcastStrides(shape, "where"));
        int n = plan.inner;
        int cs = plan.innerStride(1);
        int xs = plan.innerStride(2);
        int ys = plan.innerStride(3);
        Storage c = cond.storage();
        for (int r = 0; r < plan.rows; r++) {
            int oo = plan.rowOffset(0, r);
            int co = cond.storageOffset() + plan.rowOffset(1, r);
            int xo = x.storageOffset() + plan.rowOffset(2, r);
            int yo = y.storageOffset() + plan.rowOffset(3, r);
            for (int i = 0; i < n; i++) {
                boolean take = readDouble(c, co + i * cs) != 0;
                if (x.dtype() == DType.FLOAT32) {
                    out.storage().floats()[oo + i] = take ? x.storage().floats()[xo + i * xs] : y.storage().floats()[yo + i * ys];
                } else {
                    out.storage().doubles()[oo + i] = take ? x.storage().doubles()[xo + i * xs] : y.storage().doubles()[yo + i * ys];
                }
            }
        }
        return out;
    }

    static double readDouble(Storage s, int i) {
        switch (s.dtype()) {
            case FLOAT32: return s.floats()[i];
            case FLOAT64: return s.doubles()[i];
            default: return s.longs()[i];
        }
    }

    static void requireFloat(Tensor t, String op) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": expected a float32 or float64 tensor, got " + t.dtype()
                    + " of shape " + Shapes.str(t.shape()));
        }
    }
}
