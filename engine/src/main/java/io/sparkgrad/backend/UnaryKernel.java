package io.sparkgrad.backend;

/**
 * Elementwise one-input kernels over contiguous runs: op tokens that know nothing about
 * gradients (the formulas live in {@code io.sparkgrad.ops}). Each token carries its own float32
 * and float64 loops so the JIT compiles each loop for exactly one operation.
 */
public enum UnaryKernel {
    /** y = -x */
    NEG {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = -x[xo + i]; }
    },
    /** y = e^x */
    EXP {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.exp(x[xo + i]); }
    },
    /** y = ln x */
    LOG {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.log(x[xo + i]); }
    },
    /** y = ln(1 + x), accurate near 0 */
    LOG1P {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.log1p(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.log1p(x[xo + i]); }
    },
    /** y = √x */
    SQRT {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.sqrt(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.sqrt(x[xo + i]); }
    },
    /** y = |x| */
    ABS {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.abs(x[xo + i]); }
    },
    /** y = max(x, 0); NaN stays NaN as in PyTorch */
    RELU {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) { float v = x[xo + i]; y[yo + i] = v < 0f ? 0f : v; } }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) { double v = x[xo + i]; y[yo + i] = v < 0d ? 0d : v; } }
    },
    /** y = 1 / (1 + e^-x) */
    SIGMOID {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) (1.0 / (1.0 + Math.exp(-x[xo + i]))); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = 1.0 / (1.0 + Math.exp(-x[xo + i])); }
    },
    /** y = tanh x */
    TANH {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = (float) Math.tanh(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.tanh(x[xo + i]); }
    },
    /** y = sign(x) in {-1, 0, 1} */
    SIGN {
        void run(float[] x, int xo, float[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.signum(x[xo + i]); }
        void run(double[] x, int xo, double[] y, int yo, int n) { for (int i = 0; i < n; i++) y[yo + i] = Math.signum(x[xo + i]); }
    };

    abstract void run(float[] x, int xo, float[] y, int yo, int n);

    abstract void run(double[] x, int xo, double[] y, int yo, int n);
}
