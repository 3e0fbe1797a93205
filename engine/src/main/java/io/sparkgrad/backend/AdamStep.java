package io.sparkgrad.backend;

/**
 * Adam's float32 rule as a plain loop: the path without the Vector API, and the tail of the
 * vector kernel ({@link VectorKernels#adamStep}), which must round exactly as this loop does.
 * Every operation rounds to float, in the order of PyTorch's float32 in-place ops:
 * {@code m = m·β1 + (1-β1)·g}, {@code v = v·β2 + ((1-β2)·g)·g}, {@code v̂ = max(vmax, v)} with
 * amsgrad, {@code p = p + (-stepSize·m) / (√v̂ / bc2Sqrt + eps)}. {@code decay != 1}: AdamW's
 * decoupled decay {@code p·decay} first; {@code wd != 0}: Adam's {@code g + wd·p}.
 */
public final class AdamStep {
    private AdamStep() {
    }

    /** One step: in Vector API lanes when the module is present, else {@link #scalar}. */
    public static void run(float[] p, int po, float[] d, int dOff, float[] m, int mo, float[] v, int vo, float[] vmax,
                           int xo, int n, float sign, float wd, float decay, float beta1, float oneMinusBeta1,
                           float beta2, float oneMinusBeta2, float eps, float negStepSize, float bc2Sqrt) {
        if (VectorKernels.available()) {
            VectorKernels.INSTANCE.adamStep(p, po, d, dOff, m, mo, v, vo, vmax, xo, n, sign, wd, decay, beta1,
                    oneMinusBeta1, beta2, oneMinusBeta2, eps, negStepSize, bc2Sqrt);
        } else {
            scalar(p, po, d, dOff, m, mo, v, vo, vmax, xo, n, sign, wd, decay, beta1, oneMinusBeta1, beta2,
                    oneMinusBeta2, eps, negStepSize, bc2Sqrt);
        }
    }

    /** {@code vmax == null}: no amsgrad. All arrays hold {@code n} elements from their offsets. */
    public static void scalar(float[] p, int po, float[] d, int dOff, float[] m, int mo, float[] v, int vo,
                              float[] vmax, int xo, int n, float sign, float wd, float decay, float beta1,
                              float oneMinusBeta1, float beta2, float oneMinusBeta2, float eps, float negStepSize,
                              float bc2Sqrt) {
        for (int i = 0; i < n; i++) {
            float pi = p[po + i] * decay;
            float gi = sign * d[dOff + i];
            if (wd != 0) {
                gi = gi + wd * pi;
            }
            float mi = m[mo + i] * beta1 + oneMinusBeta1 * gi;
            float vi = v[vo + i] * beta2 + oneMinusBeta2 * gi * gi;
            m[mo + i] = mi;
            v[vo + i] = vi;
            if (vmax != null) {
                vi = Math.max(vmax[xo + i], vi);
                vmax[xo + i] = vi;
            }
            p[po + i] = pi + negStepSize * mi / ((float) Math.sqrt(vi) / bc2Sqrt + eps);
        }
    }
}
