package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

/** Moves elements between layouts: strided to contiguous, and into a strided destination. */
public final class Layout {
    private Layout() {
    }

    /** A new contiguous tensor with the same values (and no autograd history). */
    public static Tensor contiguousCopy(Tensor src) {
        if (DeviceCheck.anyOnDevice(src)) {
            return io.sparkgrad.backend.opencl.ClOps.contiguousCopy(src);
        }
        Tensor out = Tensor.empty(src.dtype(), src.shape());
        copyInto(src, out);
        return out;
    }

    /** The values of {@code src} broadcast into the (possibly strided) tensor {@code dst}; dtypes may differ. */
    public static void copyInto(Tensor src, Tensor dst) {
        if (DeviceCheck.anyOnDevice(src, dst)) {
            io.sparkgrad.backend.opencl.ClOps.copyInto(src, dst);
            return;
        }
        int[] srcStrides = src.broadcastStrides(dst.shape(), "copy");
        if (dst.numel() == 0) {
            // nothing to move; a plan over a shape such as [128, 0] would still walk its 128 rows
            return;
        }
        StridedPlan plan = StridedPlan.of(dst.shape(), dst.stride(), srcStrides);
        Storage s = src.storage();
        Storage d = dst.storage();
        int n = plan.inner;
        int ds = plan.innerStride(0);
        int ss = plan.innerStride(1);
        for (int r = 0; r < plan.rows; r++) {
            int doff = dst.storageOffset() + plan.rowOffset(0, r);
            int soff = src.storageOffset() + plan.rowOffset(1, r);
            copyRun(s, soff, ss, d, doff, ds, n);
        }
    }

    private static void copyRun(Storage s, int so, int ss, Storage d, int dof, int dst, int n) {
        DType sd = s.dtype();
        DType dd = d.dtype();
        if (sd == DType.FLOAT32 && dd == DType.FLOAT32) {
            float[] a = s.floats();
            float[] b = d.floats();
            if (ss == 1 && dst == 1) {
                System.arraycopy(a, so, b, dof, n);
            } else {
                for (int i = 0; i < n; i++) b[dof + i * dst] = a[so + i * ss];
            }
        } else if (sd == DType.FLOAT64 && dd == DType.FLOAT64) {
            double[] a = s.doubles();
            double[] b = d.doubles();
            if (ss == 1 && dst == 1) {
                System.arraycopy(a, so, b, dof, n);
            } else {
                for (int i = 0; i < n; i++) b[dof + i * dst] = a[so + i * ss];
            }
        } else if (sd == DType.INT64 && dd == DType.INT64) {
            long[] a = s.longs();
            long[] b = d.longs();
            for (int i = 0; i < n; i++) b[dof + i * dst] = a[so + i * ss];
        } else {
            convertRun(s, so, ss, d, dof, dst, n);
        }
    }

    /** Copy with a dtype conversion (rare: {@code to(DType)} and mixed-dtype writes). */
    private static void convertRun(Storage s, int so, int ss, Storage d, int dof, int dst, int n) {
        for (int i = 0; i < n; i++) {
            int si = so + i * ss;
            double v = s.dtype() == DType.FLOAT32 ? s.floats()[si]
                    : s.dtype() == DType.FLOAT64 ? s.doubles()[si] : (double) s.longs()[si];
            int di = dof + i * dst;
            switch (d.dtype()) {
                case FLOAT32: d.floats()[di] = (float) v; break;
                case FLOAT64: d.doubles()[di] = v; break;
                default: d.longs()[di] = (long) v; break;
            }
        }
    }

    /** Sets every element of a (possibly strided) tensor to {@code value}. */
    public static void fill(Tensor dst, double value) {
        if (DeviceCheck.anyOnDevice(dst)) {
            io.sparkgrad.backend.opencl.ClOps.fill(dst, value);
            return;
        }
        if (dst.isContiguous()) {
            int from = dst.storageOffset();
            int to = from + dst.numel();
            Storage d = dst.storage();
            switch (d.dtype()) {
                case FLOAT32: java.util.Arrays.fill(d.floats(), from, to, (float) value); return;
                case FLOAT64: java.util.Arrays.fill(d.doubles(), from, to, value); return;
                default: java.util.Arrays.fill(d.longs(), from, to, (long) value); return;
            }
        }
        StridedPlan plan = StridedPlan.of(dst.shape(), dst.stride());
        Storage d = dst.storage();
        int n = plan.inner;
        int ds = plan.innerStride(0);
        for (int r = 0; r < plan.rows; r++) {
            int off = dst.storageOffset() + plan.rowOffset(0, r);
            switch (d.dtype()) {
                case FLOAT32:
                    if (ds == 1) {
                        java.util.Arrays.fill(d.floats(), off, off + n, (float) value);
                    } else {
                        for (int i = 0; i < n; i++) d.floats()[off + i * ds] = (float) value;
                    }
                    break;
                case FLOAT64:
                    if (ds == 1) {
                        java.util.Arrays.fill(d.doubles(), off, off + n, value);
                    } else {
                        for (int i = 0; i < n; i++) d.doubles()[off + i * ds] = value;
                    }
                    break;
                default:
                    for (int i = 0; i < n; i++) d.longs()[off + i * ds] = (long) value;
                    break;
            }
        }
    }
}
