package io.sparkgrad.backend;

import io.sparkgrad.backend.ConvKernels.Window;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code MaxPool2d(2)} over float32 rows with the JDK Vector API; {@link PoolKernels} loads it by
 * name only when the incubator module is present (as {@link VectorKernels} is loaded).
 *
 * <p>Lane {@code j} of a vector looks at the 2×2 block whose top-left pixel is column {@code j} of
 * the row pair: four loads (the two rows, each also shifted by one column) give every block's
 * maximum and the first of its four pixels equal to that maximum, in all lanes at once; the even
 * lanes are the windows, which a scalar pass copies out, reading each value back from the pixel
 * that won (so {@code -0.0} ahead of {@code 0.0} keeps its sign) and settling a window with a NaN
 * by the scalar rule (the last NaN wins). The answer is exactly
 * {@link PoolKernels}'s general loop's; 256-bit vectors, because CNN feature-map rows are short.
 */
final class VectorPoolKernels implements PoolKernels.Halving {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int L = S.length();

    @Override
    public void maxPool2x2(float[] x, int xo, int[] xs, float[] out, long[] idx, Window g, int b0, int b1) {
        int channels = g.channels();
        int w = g.width();
        int oh = g.outH();
        int ow = g.outW();
        int rowStride = xs[2];
        int span = 2 * ow;
        // Per lane: the block's maximum and which of its pixels (0..3, row-major) is the first equal to it.
        float[] best = new float[span];
        float[] which = new float[span];
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector two = FloatVector.broadcast(S, 2f);
        FloatVector three = FloatVector.broadcast(S, 3f);
        int o = b0 * channels * oh * ow;
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < channels; c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < oh; oy++) {
                    int top = plane + 2 * oy * rowStride;
                    int bottom = top + rowStride;
                    int j = 0;
                    // The shifted loads reach column j + L, which must be one the windows use.
                    for (; j + L < span; j += L) {
                        FloatVector v0 = FloatVector.fromArray(S, x, top + j);
                        FloatVector v1 = FloatVector.fromArray(S, x, top + j + 1);
                        FloatVector v2 = FloatVector.fromArray(S, x, bottom + j);
                        FloatVector v3 = FloatVector.fromArray(S, x, bottom + j + 1);
                        FloatVector m = v0.max(v1).max(v2.max(v3));
                        three.blend(two, v2.eq(m)).blend(one, v1.eq(m)).blend(zero, v0.eq(m)).intoArray(which, j);
                        m.intoArray(best, j);
                    }
                    for (; j < span; j += 2) {
                        float v0 = x[top + j];
                        float v1 = x[top + j + 1];
                        float v2 = x[bottom + j];
                        float v3 = x[bottom + j + 1];
                        float m = Math.max(Math.max(v0, v1), Math.max(v2, v3));
                        best[j] = m;
                        which[j] = v0 == m ? 0 : v1 == m ? 1 : v2 == m ? 2 : 3;
                    }
                    int topAt = 2 * oy * w;
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int i = top + 2 * ox;
                        int k = (int) which[2 * ox];
                        if (best[2 * ox] != best[2 * ox]) {
                            k = x[i + rowStride + 1] != x[i + rowStride + 1] ? 3
                                    : x[i + rowStride] != x[i + rowStride] ? 2 : x[i + 1] != x[i + 1] ? 1 : 0;
                        }
                        int dy = k >> 1;
                        int dx = k & 1;
                        out[o] = x[i + dy * rowStride + dx];
                        idx[o] = topAt + dy * w + 2 * ox + dx;
                    }
                }
            }
        }
    }
}
