package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

/** Runs elementwise kernels over tensors of any layout, broadcasting binary operands. */
public final class Elementwise {
    private Elementwise() {
    }

    /** Elements per chunk when an op is split across threads: below this a thread hand-off costs more than it saves. */
    static final int GRAIN = 1 << 15;

    private static final VectorKernels V = VectorKernels.INSTANCE;

    /** {@code kernel(x)} into a new contiguous tensor. */
    public static Tensor unary(UnaryKernel kernel, Tensor x) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.unary(kernel, x);
        }
        requireFloat(x, kernel.name());
        Tensor src = x.isContiguous() ? x : Layout.contiguousCopy(x);
        Tensor out = Tensor.empty(x.dtype(), x.shape());
        Storage xs = src.storage();
        Storage os = out.storage();
        int xo = src.storageOffset();
        Parallel.forRange(out.numel(), GRAIN, (s, e) -> runUnary(kernel, xs, xo + s, os, s, e - s));
        return out;
    }

    private static void runUnary(UnaryKernel kernel, Storage xs, int xo, Storage os, int oo, int n) {
        if (xs.dtype() == DType.FLOAT32) {
            if (V == null || !V.unary(kernel, xs.floats(), xo, os.floats(), oo, n)) {
                kernel.run(xs.floats(), xo, os.floats(), oo, n);
            }
        } else {
            kernel.run(xs.doubles(), xo, os.doubles(), oo, n);
        }
    }

    /** {@code kernel(a, b)} with NumPy broadcasting into a new contiguous tensor; a and b share a dtype. */
    public static Tensor binary(BinaryKernel kernel, Tensor a, Tensor b, String op) {
        if (DeviceCheck.anyOnDevice(a, b)) {
            return io.sparkgrad.backend.opencl.ClOps.binary(kernel, a, b, op);
        }
        int[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        Tensor out = Tensor.empty(a.dtype(), shape);
        binaryInto(kernel, a, b, out, op);
        return out;
    }

    /** {@code out = kernel(a, b)}, where {@code out} may alias {@code a} (in-place ops). */
    public static void binaryInto(BinaryKernel kernel, Tensor a, Tensor b, Tensor out, String op) {
        if (DeviceCheck.anyOnDevice(a, b, out)) {
            io.sparkgrad.backend.opencl.ClOps.binaryInto(kernel, a, b, out, op);
            return;
        }
        requireFloat(a, op);
        requireFloat(b, op);
        if (a.dtype() != b.dtype() || out.dtype() != a.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + ", " + b.dtype() + " into "
                    + out.dtype() + ")");
        }
        if (a.isContiguous() && b.isContiguous() && out.isContiguous() && a.sameShape(out)
                && (b.sameShape(out) || b.numel() == 1)) {
            // The common cases (same shapes, or a scalar operand) need no broadcast plan.
            int bs = b.sameShape(out) ? 1 : 0;
            Storage sa = a.storage();
            Storage sb = b.storage();
            Storage so = out.storage();
            int ao = a.storageOffset();
            int bo = b.storageOffset();
            int oo = out.storageOffset();
            if (out.numel() < GRAIN) {
                runBinary(kernel, sa, ao, 1, sb, bo, bs, so, oo, out.numel());
            } else {
                Parallel.forRange(out.numel(), GRAIN, (s, e) ->
                        runBinary(kernel, sa, ao + s, 1, sb, bo + s * bs, bs, so, oo + s, e - s));
            }
            return;
        }
        int[] shape = out.shape();
        StridedPlan plan = StridedPlan.of(shape, out.stride(), a.broadcastStrides(shape, op),
                b.broadcastStrides(shape, op));
        if (plan.innerStride(0) != 1) {
            Tensor tmp = binary(kernel, a, b, op);
            Layout.copyInto(tmp, out);
            return;
        }
        int as = plan.innerStride(1);
        int bs = plan.innerStride(2);
        Storage sa = a.storage();
        Storage sb = b.storage();
        Storage so = out.storage();
        int inner = plan.inner;
        if (plan.rows == 1) {
            int ao = a.storageOffset();
            int bo = b.storageOffset();
            int oo = out.storageOffset();
            Parallel.forRange(inner, GRAIN, (s, e) ->
                    runBinary(kernel, sa, ao + s * as, as, sb, bo + s * bs, bs, so, oo + s, e - s));
            return;
        }
        Parallel.forRange(plan.rows, Math.max(1, GRAIN / Math.max(1, inner)), (rs, re) -> {
            for (int r = rs; r < re; r++) {
                runBinary(kernel, sa, a.storageOffset() + plan.rowOffset(1, r), as,
                        sb, b.storageOffset() + plan.rowOffset(2, r), bs,
                        so, out.storageOffset() + plan.rowOffset(0, r), inner);
            }
        });
    }

    private static void runBinary(BinaryKernel kernel, Storage sa, int ao, int as, Storage sb, int bo, int bs,
                                  Storage so, int oo, int n) {
        if (sa.dtype() != DType.FLOAT32) {
            kernel.run(sa.doubles(), ao, as, sb.doubles(), bo, bs, so.doubles(), oo, n);
            return;
        }
        if (V != null) {
            if (as == 1 && (bs == 1 || bs == 0) && V.binary(kernel, sa.floats(), ao, sb.floats(), bo, bs, so.floats(), oo, n)) {
                return;
            }
            // A scalar on the left of a commutative op is the same run with the operands swapped.
            if (as == 0 && bs == 1 && (kernel == BinaryKernel.ADD || kernel == BinaryKernel.MUL)
                    && V.binary(kernel, sb.floats(), bo, sa.floats(), ao, 0, so.floats(), oo, n)) {
                return;
            }
        }
        kernel.run(sa.floats(), ao, as, sb.floats(), bo, bs, so.floats(), oo, n);
    }

    /** {@code y += alpha * x} in place (both contiguous, same shape and dtype): the optimizer's and accumulation's update. */
    public static boolean axpyInPlace(double alpha, Tensor x, Tensor y) {
        if (DeviceCheck.anyOnDevice(x, y)) {
            return false; // the caller's general path (add_ of a product) runs on the device
        }
        if (!x.isContiguous() || !y.isContiguous() || x.dtype() != y.dtype()
                || !java.util.Arrays.equals(x.shape(), y.shape()) || x.storage() == y.storage()) {
            return false;
        }
        Storage xs = x.storage();
        Storage ys = y.storage();
        int xo = x.storageOffset();
        int yo = y.storageOffset();
        Parallel.forRange(x.numel(), GRAIN, (s, e) -> {
            if (xs.dtype() == DType.FLOAT32) {
                if (V != null) {
                    V.axpy((float) alpha, xs.floats(), xo + s, ys.floats(), yo + s, e - s);
                } else {
                    float a = (float) alpha;
                    float[] xf = xs.floats();
                    float[] yf = ys.floats();
                    for (int i = s; i < e; i++) yf[yo + i] += a * xf[xo + i];
                }
            } else {
                double[] xd = xs.doubles();
                double[] yd = ys.doubles();
                for (int i = s; i < e; i++) yd[yo + i] += alpha * xd[xo + i];
            }
        });
        return true;
    }

    /** {@code grad where result > 0, else 0}: ReLU's backward in one pass (inputs of one shape). */
    public static Tensor reluBackward(Tensor grad, Tensor result) {
        if (DeviceCheck.anyOnDevice(grad, result)) {
            return io.sparkgrad.backend.opencl.ClOps.reluBackward(grad, result);
        }
        Tensor g = grad.contiguousData();
        Tensor y = result.contiguousData();
        Tensor out = Tensor.empty(g.dtype(), g.shape());
        Storage gs = g.storage();
        Storage ys = y.storage();
        Storage os = out.storage();
        int go = g.storageOffset();
        int yo = y.storageOffset();
        Parallel.forRange(out.numel(), GRAIN, (s, e) -> {
            if (gs.dtype() == DType.FLOAT32 && V != null) {
                V.reluBackward(gs.floats(), go + s, ys.floats(), yo + s, os.floats(), s, e - s);
            } else if (gs.dtype() == DType.FLOAT32) {
                for (int i = s; i < e; i++) os.floats()[i] = ys.floats()[yo + i] > 0f ? gs.floats()[go + i] : 0f;
            } else {
                for (int i = s; i < e; i++) os.doubles()[i] = ys.doubles()[yo + i] > 0d ? gs.doubles()[go + i] : 0d;
            }
        });
        return out;
    }

    /** {@code cond != 0 ? x : y}, all three broadcast together. */
    public static Tensor where(Tensor cond, Tensor x, Tensor y) {
        if (DeviceCheck.anyOnDevice(cond, x, y)) {
            return io.sparkgrad.backend.opencl.ClOps.where(cond, x, y);
        }
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
