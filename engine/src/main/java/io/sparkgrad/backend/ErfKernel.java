package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

/**
 * The error function {@code erf(x) = 2/√π ∫₀ˣ e^(-t²) dt}, which the JDK lacks; accurate to a few
 * units in the last place of a double, so float64 results agree with PyTorch's.
 *
 * <p>For {@code |x| < 2.5} the series {@code erf(x) = 2/√π · e^(-x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))}
 * (all terms positive, so no cancellation); for {@code 2.5 ≤ |x| < 6} {@code erf = 1 - erfc}
 * with erfc from its continued fraction {@code e^(-x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))};
 * beyond 6, {@code erfc(x) < 2·10⁻¹⁷} and erf is ±1 in double precision.
 */
public final class ErfKernel {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
    /** Enough terms for full double precision from x = 2.5 on (measured against a reference erfc). */
    private static final int FRACTION_TERMS = 60;

    private ErfKernel() {
    }

    public static double erf(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax >= 6) {
            return Math.signum(x);
        }
        if (ax < 2.5) {
            double x2 = x * x;
            double term = x;
            double sum = x;
            for (int n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
        }
        double t = ax;
        for (int k = FRACTION_TERMS; k >= 1; k--) {
            t = ax + (k * 0.5) / t;
        }
        double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
        return Math.copySign(1 - erfc, x);
    }

    /** {@code erf} of every element, into a new contiguous tensor. */
    public static Tensor erf(Tensor x) {
        Elementwise.requireFloat(x, "erf");
        Tensor out = Layout.contiguousCopy(x);
        int n = out.numel();
        if (out.dtype() == DType.FLOAT32) {
            float[] v = out.storage().floats();
            for (int i = 0; i < n; i++) {
                v[i] = (float) erf(v[i]);
            }
        } else {
            double[] v = out.storage().doubles();
            for (int i = 0; i < n; i++) {
                v[i] = erf(v[i]);
            }
        }
        return out;
    }
}
