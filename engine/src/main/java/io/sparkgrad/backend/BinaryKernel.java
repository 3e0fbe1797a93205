package io.sparkgrad.backend;

/**
 * Elementwise two-input kernels over one strided run: {@code out[i] = a[ao + i*as] op b[bo + i*bs]}.
 * A stride of 0 is how a broadcast operand repeats. Comparison tokens write 1 or 0 (masks used
 * by gradient formulas; they carry no gradient).
 */
public enum BinaryKernel {
    /** a + b */
    ADD {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] + b[bo + i * bs]; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] + b[bo + i * bs]; }
    },
    /** a - b */
    SUB {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] - b[bo + i * bs]; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] - b[bo + i * bs]; }
    },
    /** a * b */
    MUL {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] * b[bo + i * bs]; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] * b[bo + i * bs]; }
    },
    /** a / b */
    DIV {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] / b[bo + i * bs]; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] / b[bo + i * bs]; }
    },
    /** a ^ b */
    POW {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = (float) Math.pow(a[ao + i * as], b[bo + i * bs]); }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = Math.pow(a[ao + i * as], b[bo + i * bs]); }
    },
    /** a > b ? 1 : 0 */
    GT {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] > b[bo + i * bs] ? 1f : 0f; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] > b[bo + i * bs] ? 1d : 0d; }
    },
    /** a >= b ? 1 : 0 */
    GE {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] >= b[bo + i * bs] ? 1f : 0f; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] >= b[bo + i * bs] ? 1d : 0d; }
    },
    /** a == b ? 1 : 0 */
    EQ {
        void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] == b[bo + i * bs] ? 1f : 0f; }
        void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n) { for (int i = 0; i < n; i++) o[oo + i] = a[ao + i * as] == b[bo + i * bs] ? 1d : 0d; }
    };

    abstract void run(float[] a, int ao, int as, float[] b, int bo, int bs, float[] o, int oo, int n);

    abstract void run(double[] a, int ao, int as, double[] b, int bo, int bs, double[] o, int oo, int n);
}
