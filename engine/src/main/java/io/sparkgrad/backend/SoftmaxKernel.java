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

    public static Tensor softmax(Tensor x, int dim, boolean log) {
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
            for (int r = 0; r < count; r++) {
                int base = r * n;
                float m = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) m = Math.max(m, a[base + i]);
                double sum = 0;
                for (int i = 0; i < n; i++) sum += Math.exp(a[base + i] - m);
                if (log) {
                    float lse = (float) (m + Math.log(sum));
                    for (int i = 0; i < n; i++) a[base + i] -= lse;
                } else {
                    double inv = 1.0 / sum;
                    for (int i = 0; i < n; i++) a[base + i] = (float) (Math.exp(a[base + i] - m) * inv);
                }
            }
        } else {
            double[] a = rows.storage().doubles();
            for (int r = 0; r < count; r++) {
                int base = r * n;
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
        return dim == last ? rows : Layout.contiguousCopy(rows.transpose(dim, last));
    }
}
