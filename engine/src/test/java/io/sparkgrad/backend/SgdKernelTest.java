package io.sparkgrad.backend;

import io.sparkgrad.Generator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The Vector API SGD step against the scalar loop SGD falls back to without the module: the same
 * parameters and momentum buffers bit for bit, so a run does not depend on how the JVM was started.
 * Lengths leave vector tails; offsets are not lane-aligned.
 */
class SgdKernelTest {
    private static float[] random(Generator g, int n) {
        double[] v = new double[n];
        g.fillUniform(v, -2, 2);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    @Test
    void vectorStepEqualsTheScalarLoopBitForBit() {
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
                                float[] b2 = b == null ? null : b.clone();
                                VectorKernels.INSTANCE.sgdStep(p, 3, d, 5, b, 1, n, 0.1f, wd, sign, 0.9f, 0.75f,
                                        first, nesterov);
                                SgdStep.scalar(p2, 3, d, 5, b2, 1, n, 0.1f, wd, sign, 0.9f, 0.75f, first, nesterov);
                                String what = "n=" + n + " momentum=" + momentum + " first=" + first
                                        + " nesterov=" + nesterov + " wd=" + wd + " sign=" + sign;
                                assertArrayEquals(p2, p, what);
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
}
