package io.sparkgrad.backend;

/**
 * SGD's float32 rule as a plain loop: the path without the Vector API, and the tail of the
 * vector kernel ({@link VectorKernels#sgdStep}), which must round exactly as this loop does.
 */
public final class SgdStep {
    private SgdStep() {
    }

    /** One step: in Vector API lanes when the module is present, else {@link #scalar}. */
    public static void run(float[] p, int po, float[] d, int dOff, float[] b, int bo, int n, float lr, float wd,
                           float sign, float mu, float keep, boolean first, boolean nesterov) {
        if (VectorKernels.available()) {
            VectorKernels.INSTANCE.sgdStep(p, po, d, dOff, b, bo, n, lr, wd, sign, mu, keep, first, nesterov);
        } else {
            scalar(p, po, d, dOff, b, bo, n, lr, wd, sign, mu, keep, first, nesterov);
        }
    }

    /** See {@link VectorKernels#sgdStep}; {@code b == null}: no momentum buffer. */
    public static void scalar(float[] p, int po, float[] d, int dOff, float[] b, int bo, int n, float lr, float wd,
                              float sign, float mu, float keep, boolean first, boolean nesterov) {
        for (int i = 0; i < n; i++) {
            float g = sign * d[dOff + i] + wd * p[po + i];
            if (b != null) {
                float bi = first ? g : b[bo + i] * mu + keep * g;
                b[bo + i] = bi;
                g = nesterov ? g + mu * bi : bi;
            }
            p[po + i] -= lr * g;
        }
    }
}
