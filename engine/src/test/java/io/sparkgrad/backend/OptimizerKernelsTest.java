package io.sparkgrad.backend;

import io.sparkgrad.Generator;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The Vector API optimizer steps (SGD, Adam/AdamW) against the scalar loops the optimizers fall
 * back to without the module: the same parameters and state bit for bit, so a run does not depend
 * on how the JVM was started. Lengths leave vector tails; offsets are not lane-aligned; the Adam
 * case covers coupled and decoupled weight decay, amsgrad (with a NaN in its maximum) and maximize.
 */
class OptimizerKernelsTest {
    private static float[] random(Generator g, int n) {
        double[] v = new double[n];
        g.fillUniform(v, -2, 2);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static float[] scaled(float[] x, float by) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= by;
        }
        return x;
    }

    /** Non-negative second moments: squares of values in [-0.1, 0.1]. */
    private static float[] squares(float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = x[i] * x[i] / 400;
        }
        return x;
    }

    @Test
    void vectorSgdStepEqualsTheScalarLoopBitForBit() {
        assertNotNull(VectorKernels.INSTANCE, "surefire starts the JVM with --add-modules jdk.incubator.vector");
        Generator g = new Generator(11);
        for (int n : new int[] {1, 7, 16, 33, 1000, 4099}) {
            for (boolean momentum : new boolean[] {false, true}) {
                for (boolean first : new boolean[] {false, true}) {
                    for (boolean nesterov : new boolean[] {false, true}) {
                        for (float wd : new float[] {0f, 1e-2f}) {
                            for (float sign : new float[] {1f, -1f}) {
                                float[] p = random(g, n + 3);
                                float[] d = random(g, n + 5);
                                float[] b = momentum ? random(g, n + 1) : null;
                                float[] p2 = p.clone();
                                float[] before = p.clone();
                                float[] b2 = b == null ? null : b.clone();
                                VectorKernels.INSTANCE.sgdStep(p, 3, d, 5, b, 1, n, 0.1f, wd, sign, 0.9f, 0.75f,
                                        first, nesterov);
                                SgdStep.scalar(p2, 3, d, 5, b2, 1, n, 0.1f, wd, sign, 0.9f, 0.75f, first, nesterov);
                                String what = "n=" + n + " momentum=" + momentum + " first=" + first
                                        + " nesterov=" + nesterov + " wd=" + wd + " sign=" + sign;
                                assertArrayEquals(p2, p, what);
                                assertFalse(Arrays.equals(before, p), what + ": the step changed nothing");
                                if (b != null) {
                                    assertArrayEquals(b2, b, what);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void vectorAdamStepEqualsTheScalarLoopBitForBit() {
        assertNotNull(VectorKernels.INSTANCE, "surefire starts the JVM with --add-modules jdk.incubator.vector");
        Generator g = new Generator(5);
        for (int n : new int[] {1, 9, 16, 31, 1000, 4099}) {
            for (boolean amsgrad : new boolean[] {false, true}) {
                for (boolean decoupled : new boolean[] {false, true}) {
                    for (float wd : new float[] {0f, 1e-2f}) {
                        for (float sign : new float[] {1f, -1f}) {
                            float[] p = random(g, n + 2);
                            float[] d = random(g, n + 3);
                            float[] m = scaled(random(g, n + 1), 0.05f);
                            float[] v = squares(random(g, n + 4));
                            float[] x = amsgrad ? squares(random(g, n + 5)) : null;
                            if (x != null) {
                                x[5 + n / 2] = Float.NaN;
                            }
                            float[][] copies = {p.clone(), m.clone(), v.clone(), x == null ? null : x.clone()};
                            float[] before = p.clone();
                            float decay = decoupled ? 1f - 1e-3f * wd : 1f;
                            float couple = decoupled ? 0f : wd;
                            VectorKernels.INSTANCE.adamStep(p, 2, d, 3, m, 1, v, 4, x, 5, n, sign, couple, decay,
                                    0.9f, 0.1f, 0.999f, 0.001f, 1e-8f, -1e-3f, 0.0316f);
                            AdamStep.scalar(copies[0], 2, d, 3, copies[1], 1, copies[2], 4, copies[3], 5, n, sign,
                                    couple, decay, 0.9f, 0.1f, 0.999f, 0.001f, 1e-8f, -1e-3f, 0.0316f);
                            String what = "n=" + n + " amsgrad=" + amsgrad + " decoupled=" + decoupled + " wd=" + wd
                                    + " sign=" + sign;
                            assertArrayEquals(copies[0], p, what + " parameter");
                            assertFalse(Arrays.equals(before, p), what + ": the step changed nothing");
                            assertArrayEquals(copies[1], m, what + " exp_avg");
                            assertArrayEquals(copies[2], v, what + " exp_avg_sq");
                            if (x != null) {
                                assertArrayEquals(copies[3], x, what + " max_exp_avg_sq");
                            }
                        }
                    }
                }
            }
        }
    }
}
