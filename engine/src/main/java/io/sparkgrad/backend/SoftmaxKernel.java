package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

/**
 * Softmax and log-softmax along one dimension, computed stably (the row maximum is subtracted
 * before exponentiating). The dimension is moved last so each row is one contiguous run.
 */
public final class SoftmaxKernel {
    private SoftmaxKernel() {
    }

    private static final VectorKernels V = VectorKernels.INSTANCE;

    public static Tensor softmax(Tensor x, int dim, boolean log) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.softmax(x, dim, log);
        }
        int last = x.dim() - 1;
        if (x.dim() == 0) {
            return log ? Tensor.zeros(x.dtype()) : Tensor.ones(x.dtype());
        }
        Tensor moved = dim == last ? x : x.detach().transpose(dim, last);
        Tensor rows = Layout.contiguousCopy(moved);
        int n = rows.size(-1);
        int count = n == 0 ? 0 : rows.numel() / n;
        if (rows.dtype() == DType.FLOAT32) {
            float[] a = rows.storage().floats();
            Parallel.forRange(count, Math.max(1, Elementwise.GRAIN / Math.max(1, n)), (rs, re) -> {
                for (int r = rs; r < re; r++) {
                    softmaxRow(a, r * n, n, log);
                }
            });
        } else {
            double[] a = rows.storage().doubles();
            Parallel.forRange(count, Math.max(1, Elementwise.GRAIN / Math.max(1, n)), (rs, re) -> {
                for (int r = rs; r < re; r++) {
                    softmaxRow(a, r * n, n, log);
                }
            });
        }
        return dim == last ? rows : Layout.contiguousCopy(rows.transpose(dim, last));
    }

    /** {@code log Σ exp(x)} over one contiguous run of a float tensor's storage, computed stably. */
    public static double logSumExp(Tensor t, int from, int n) {
        if (t.dtype() == DType.FLOAT32) {
            float[] a = t.storage().floats();
            float m;
            if (V != null) {
                m = V.max(a, from, n);
            } else {
                m = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) m = Math.max(m, a[from + i]);
            }
            double sum = V != null ? V.expSum(a, from, m, null, 0, n) : scalarExpSum(a, from, n, m);
            return m + Math.log(sum);
        }
        double[] a = t.storage().doubles();
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, a[from + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(a[from + i] - m);
        return m + Math.log(sum);
    }

    /** One row in place: subtract the maximum, exponentiate, normalise (or subtract log-sum-exp). */
    static void softmaxRow(float[] a, int base, int n, boolean log) {
        float m;
        if (V != null) {
            m = V.max(a, base, n);
        } else {
            m = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) m = Math.max(m, a[base + i]);
        }
        if (log) {
            double sum = V != null ? V.expSum(a, base, m, null, 0, n) : scalarExpSum(a, base, n, m);
            float lse = (float) (m + Math.log(sum));
            for (int i = 0; i < n; i++) a[base + i] -= lse;
        } else {
            double sum = V != null ? V.expSum(a, base, m, a, base, n) : scalarExpSumInPlace(a, base, n, m);
            float inv = (float) (1.0 / sum);
            for (int i = 0; i < n; i++) a[base + i] *= inv;
        }
    }

    private static double scalarExpSum(float[] a, int base, int n, float m) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(a[base + i] - m);
        return sum;
    }

    private static double scalarExpSumInPlace(float[] a, int base, int n, float m) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(a[base + i] - m);
            a[base + i] = e;
            sum += e;
        }
        return sum;
    }

    static void softmaxRow(double[] a, int base, int n, boolean log) {
        double m = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, a[base + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(a[base + i] - m);
        if (log) {
            double lse = m + Math.log(sum);
            for (int i = 0; i < n; i++) a[base + i] -= lse;
        } else {
            double inv = 1.0 / sum;
            for (int i = 0; i < n; i++) a[base + i] = Math.exp(a[base + i] - m) * inv;
        }
    }
}
