package io.sparkgrad.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 kernels on the JDK Vector API. Loaded by name from {@link VectorKernels} only when the
 * incubator module is present. Each operation has its own loop with its operator as a constant:
 * an operator passed in as a parameter loses the intrinsic on this JDK. Transcendentals use the
 * lanewise EXP/TANH/LOG intrinsics, measured 15–45× faster than {@code Math.exp} per element here.
 */
final class VectorFloatKernels implements VectorKernels {
    // One species for every kernel in the JVM: HotSpot 17 loses the intrinsics when two are mixed (see VectorSgemm).
    private static final VectorSpecies<Float> S = VectorSgemm.SPECIES;
    private static final int L = S.length();

    @Override
    public boolean unary(UnaryKernel op, float[] x, int xo, float[] y, int yo, int n) {
        switch (op) {
            case EXP: exp(x, xo, y, yo, n); return true;
            case TANH: tanh(x, xo, y, yo, n); return true;
            case SIGMOID: sigmoid(x, xo, y, yo, n); return true;
            case LOG: log(x, xo, y, yo, n); return true;
            case LOG1P: log1p(x, xo, y, yo, n); return true;
            case RELU: relu(x, xo, y, yo, n); return true;
            case NEG: neg(x, xo, y, yo, n); return true;
            default: return false;
        }
    }

    private static void exp(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).lanewise(VectorOperators.EXP).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = (float) Math.exp(x[xo + i]);
    }

    private static void tanh(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).lanewise(VectorOperators.TANH).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = (float) Math.tanh(x[xo + i]);
    }

    private static void sigmoid(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; i <= n - L; i += L) {
            FloatVector e = FloatVector.fromArray(S, x, xo + i).neg().lanewise(VectorOperators.EXP);
            one.div(one.add(e)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = (float) (1.0 / (1.0 + Math.exp(-x[xo + i])));
    }

    private static void log(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).lanewise(VectorOperators.LOG).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = (float) Math.log(x[xo + i]);
    }

    private static void log1p(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).lanewise(VectorOperators.LOG1P).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = (float) Math.log1p(x[xo + i]);
    }

    private static void relu(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            // Blend rather than max so NaN stays NaN, as PyTorch's relu.
            v.blend(zero, v.compare(VectorOperators.LT, zero)).intoArray(y, yo + i);
        }
        for (; i < n; i++) {
            float v = x[xo + i];
            y[yo + i] = v < 0f ? 0f : v;
        }
    }

    private static void neg(float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).neg().intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] = -x[xo + i];
    }

    @Override
    public boolean binary(BinaryKernel op, float[] a, int ao, float[] b, int bo, int bs, float[] o, int oo, int n) {
        if (bs == 0) {
            switch (op) {
                case ADD: addScalar(a, ao, b[bo], o, oo, n); return true;
                case MUL: mulScalar(a, ao, b[bo], o, oo, n); return true;
                case SUB: addScalar(a, ao, -b[bo], o, oo, n); return true;
                default: return false;
            }
        }
        switch (op) {
            case ADD: add(a, ao, b, bo, o, oo, n); return true;
            case SUB: sub(a, ao, b, bo, o, oo, n); return true;
            case MUL: mul(a, ao, b, bo, o, oo, n); return true;
            case DIV: div(a, ao, b, bo, o, oo, n); return true;
            default: return false;
        }
    }

    private static void add(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).add(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] + b[bo + i];
    }

    private static void sub(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).sub(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] - b[bo + i];
    }

    private static void mul(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).mul(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] * b[bo + i];
    }

    private static void div(float[] a, int ao, float[] b, int bo, float[] o, int oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).div(FloatVector.fromArray(S, b, bo + i)).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] / b[bo + i];
    }

    private static void addScalar(float[] a, int ao, float s, float[] o, int oo, int n) {
        int i = 0;
        FloatVector vs = FloatVector.broadcast(S, s);
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).add(vs).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] + s;
    }

    private static void mulScalar(float[] a, int ao, float s, float[] o, int oo, int n) {
        int i = 0;
        FloatVector vs = FloatVector.broadcast(S, s);
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, a, ao + i).mul(vs).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = a[ao + i] * s;
    }

    @Override
    public double sum(float[] x, int xo, int n) {
        int i = 0;
        double total = 0;
        // Four accumulators, so the adds do not wait on each other's latency; the lanes are folded
        // into a double every 4096 elements so float rounding error stays small.
        while (i <= n - L) {
            int end = Math.min(n, i + 4096);
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (; i <= end - 4 * L; i += 4 * L) {
                a0 = a0.add(FloatVector.fromArray(S, x, xo + i));
                a1 = a1.add(FloatVector.fromArray(S, x, xo + i + L));
                a2 = a2.add(FloatVector.fromArray(S, x, xo + i + 2 * L));
                a3 = a3.add(FloatVector.fromArray(S, x, xo + i + 3 * L));
            }
            for (; i <= end - L; i += L) {
                a0 = a0.add(FloatVector.fromArray(S, x, xo + i));
            }
            total += a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) total += x[xo + i];
        return total;
    }

    @Override
    public void addInto(float[] x, int xo, float[] acc, int ao, int n) {
        add(acc, ao, x, xo, acc, ao, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    @Override
    public void sgdStep(float[] p, int po, float[] d, int dOff, float[] b, int bo, int n, float lr, float wd,
                        float sign, float mu, float keep, boolean first, boolean nesterov) {
        FloatVector vLr = FloatVector.broadcast(S, lr);
        FloatVector vWd = FloatVector.broadcast(S, wd);
        FloatVector vSign = FloatVector.broadcast(S, sign);
        FloatVector vMu = FloatVector.broadcast(S, mu);
        FloatVector vKeep = FloatVector.broadcast(S, keep);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector vp = FloatVector.fromArray(S, p, po + i);
            FloatVector g = vSign.mul(FloatVector.fromArray(S, d, dOff + i)).add(vWd.mul(vp));
            if (b != null) {
                FloatVector vb = first ? g : FloatVector.fromArray(S, b, bo + i).mul(vMu).add(vKeep.mul(g));
                vb.intoArray(b, bo + i);
                g = nesterov ? g.add(vMu.mul(vb)) : vb;
            }
            vp.sub(vLr.mul(g)).intoArray(p, po + i);
        }
        SgdStep.scalar(p, po + i, d, dOff + i, b, bo + i, n - i, lr, wd, sign, mu, keep, first, nesterov);
    }

    @Override
    public void adamStep(float[] p, int po, float[] d, int dOff, float[] m, int mo, float[] v, int vo, float[] vmax,
                         int xo, int n, float sign, float wd, float decay, float beta1, float oneMinusBeta1,
                         float beta2, float oneMinusBeta2, float eps, float negStepSize, float bc2Sqrt) {
        FloatVector vSign = FloatVector.broadcast(S, sign);
        FloatVector vWd = FloatVector.broadcast(S, wd);
        FloatVector vDecay = FloatVector.broadcast(S, decay);
        FloatVector vB1 = FloatVector.broadcast(S, beta1);
        FloatVector vOmB1 = FloatVector.broadcast(S, oneMinusBeta1);
        FloatVector vB2 = FloatVector.broadcast(S, beta2);
        FloatVector vOmB2 = FloatVector.broadcast(S, oneMinusBeta2);
        FloatVector vEps = FloatVector.broadcast(S, eps);
        FloatVector vStep = FloatVector.broadcast(S, negStepSize);
        FloatVector vBc2 = FloatVector.broadcast(S, bc2Sqrt);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector pi = FloatVector.fromArray(S, p, po + i).mul(vDecay);
            FloatVector gi = vSign.mul(FloatVector.fromArray(S, d, dOff + i));
            if (wd != 0) {
                gi = gi.add(vWd.mul(pi));
            }
            FloatVector mi = FloatVector.fromArray(S, m, mo + i).mul(vB1).add(vOmB1.mul(gi));
            FloatVector vi = FloatVector.fromArray(S, v, vo + i).mul(vB2).add(vOmB2.mul(gi).mul(gi));
            mi.intoArray(m, mo + i);
            vi.intoArray(v, vo + i);
            if (vmax != null) {
                vi = FloatVector.fromArray(S, vmax, xo + i).max(vi); // Math.max per lane: NaN propagates
                vi.intoArray(vmax, xo + i);
            }
            FloatVector denom = vi.lanewise(VectorOperators.SQRT).div(vBc2).add(vEps);
            pi.add(vStep.mul(mi).div(denom)).intoArray(p, po + i);
        }
        AdamStep.scalar(p, po + i, d, dOff + i, m, mo + i, v, vo + i, vmax, xo + i, n - i, sign, wd, decay, beta1,
                oneMinusBeta1, beta2, oneMinusBeta2, eps, negStepSize, bc2Sqrt);
    }

    @Override
    public void reluBackward(float[] g, int go, float[] y, int yo, float[] o, int oo, int n) {
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i <= n - L; i += L) {
            VectorMask<Float> pos = FloatVector.fromArray(S, y, yo + i).compare(VectorOperators.GT, zero);
            zero.blend(FloatVector.fromArray(S, g, go + i), pos).intoArray(o, oo + i);
        }
        for (; i < n; i++) o[oo + i] = y[yo + i] > 0f ? g[go + i] : 0f;
    }

    @Override
    public float max(float[] x, int xo, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector acc = FloatVector.fromArray(S, x, xo);
            for (i = L; i <= n - L; i += L) {
                acc = acc.max(FloatVector.fromArray(S, x, xo + i));
            }
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[xo + i]);
        return m;
    }

    @Override
    public double expSum(float[] x, int xo, float shift, float[] out, int oo, int n) {
        FloatVector acc = FloatVector.zero(S);
        FloatVector vs = FloatVector.broadcast(S, shift);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector e = FloatVector.fromArray(S, x, xo + i).sub(vs).lanewise(VectorOperators.EXP);
            if (out != null) {
                e.intoArray(out, oo + i);
            }
            acc = acc.add(e);
        }
        double total = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - shift);
            if (out != null) {
                out[oo + i] = e;
            }
            total += e;
        }
        return total;
    }
}
