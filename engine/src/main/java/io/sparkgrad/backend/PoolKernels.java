package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.ConvKernels.Window;

/** Max pooling over {@code [N, C, H, W]}: the maximum of each window and where it was. */
public final class PoolKernels {
    private PoolKernels() {
    }

    /**
     * The maxima and, as PyTorch's {@code max_pool2d_with_indices}, the flat position
     * {@code iy·W + ix} of each maximum within its {@code H × W} plane (int64).
     */
    public record MaxPooled(Tensor values, Tensor indices) {
    }

    /**
     * Maximum of each window (padding counts as −∞, so it never wins); the first maximum on ties,
     * and NaN wins, as in PyTorch.
     */
    public static MaxPooled maxPool2d(Tensor x, Window g) {
        Elementwise.requireFloat(x, "maxPool2d");
        int[] outShape = {g.batch(), g.channels(), g.outH(), g.outW()};
        Tensor values = Tensor.empty(x.dtype(), outShape);
        Tensor indices = Tensor.empty(DType.INT64, outShape);
        long[] idx = indices.storage().longs();
        int[] xs = x.stride();
        int xo = x.storageOffset();
        long workPerImage = (long) g.channels() * g.blocks() * g.kernelH() * g.kernelW();
        if (x.dtype() == DType.FLOAT32) {
            float[] src = x.storage().floats();
            float[] dst = values.storage().floats();
            ConvKernels.forBatch(g.batch(), workPerImage, (b0, b1) -> maxPool(src, xo, xs, dst, idx, g, b0, b1));
        } else {
            double[] src = x.storage().doubles();
            double[] dst = values.storage().doubles();
            ConvKernels.forBatch(g.batch(), workPerImage, (b0, b1) -> maxPool(src, xo, xs, dst, idx, g, b0, b1));
        }
        return new MaxPooled(values, indices);
    }

    private static void maxPool(float[] x, int xo, int[] xs, float[] out, long[] idx, Window g, int b0, int b1) {
        int o = b0 * g.channels() * g.blocks();
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < g.channels(); c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < g.outH(); oy++) {
                    int y0 = Math.max(oy * g.strideH() - g.padH(), 0);
                    int y1 = Math.min(oy * g.strideH() - g.padH() + g.kernelH(), g.height());
                    for (int ox = 0; ox < g.outW(); ox++, o++) {
                        int x0 = Math.max(ox * g.strideW() - g.padW(), 0);
                        int x1 = Math.min(ox * g.strideW() - g.padW() + g.kernelW(), g.width());
                        float best = Float.NEGATIVE_INFINITY;
                        int at = y0 * g.width() + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                float v = x[plane + iy * xs[2] + ix * xs[3]];
                                if (v > best || Float.isNaN(v)) {
                                    best = v;
                                    at = iy * g.width() + ix;
                                    if (Float.isNaN(v)) {
                                        iy = y1;
                                        break;
                                    }
                                }
                            }
                        }
                        out[o] = best;
                        idx[o] = at;
                    }
                }
            }
        }
    }

    private static void maxPool(double[] x, int xo, int[] xs, double[] out, long[] idx, Window g, int b0, int b1) {
        int o = b0 * g.channels() * g.blocks();
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < g.channels(); c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < g.outH(); oy++) {
                    int y0 = Math.max(oy * g.strideH() - g.padH(), 0);
                    int y1 = Math.min(oy * g.strideH() - g.padH() + g.kernelH(), g.height());
                    for (int ox = 0; ox < g.outW(); ox++, o++) {
                        int x0 = Math.max(ox * g.strideW() - g.padW(), 0);
                        int x1 = Math.min(ox * g.strideW() - g.padW() + g.kernelW(), g.width());
                        double best = Double.NEGATIVE_INFINITY;
                        int at = y0 * g.width() + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                double v = x[plane + iy * xs[2] + ix * xs[3]];
                                if (v > best || Double.isNaN(v)) {
                                    best = v;
                                    at = iy * g.width() + ix;
                                    if (Double.isNaN(v)) {
                                        iy = y1;
                                        break;
                                    }
                                }
                            }
                        }
                        out[o] = best;
                        idx[o] = at;
                    }
                }
            }
        }
    }
}
