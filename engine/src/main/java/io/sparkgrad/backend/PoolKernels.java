package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.ConvKernels.Window;

/** Max pooling over {@code [N, C, H, W]}: the maximum of each window and where it was. */
public final class PoolKernels {
    /**
     * {@code MaxPool2d(2)} over float32 images {@code b0..b1} (see {@link #isHalving}): the maxima
     * into {@code out}, their flat positions within the plane into {@code idx}.
     */
    interface Halving {
        void maxPool2x2(float[] x, int xo, int[] xs, float[] out, long[] idx, Window g, int b0, int b1);
    }

    /** The Vector API version when the incubator module is present, else the scalar loop below. */
    static final Halving HALVING = loadHalving();

    private PoolKernels() {
    }

    private static Halving loadHalving() {
        if (VectorKernels.available()) {
            try {
                return (Halving) Class.forName("io.sparkgrad.backend.VectorPoolKernels").getDeclaredConstructor()
                        .newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                java.util.logging.Logger.getLogger(PoolKernels.class.getName())
                        .warning("Sparkgrad: could not load the Vector API max pooling (" + e + "); using the scalar loop");
            }
        }
        return PoolKernels::maxPool2x2;
    }

    /**
     * The maxima and, as PyTorch's {@code max_pool2d_with_indices}, the flat position
     * {@code iy·W + ix} of each maximum within its {@code H × W} plane (int64).
     */
    public record MaxPooled(Tensor values, Tensor indices) {
    }

    /**
     * Maximum of each window (padding counts as −∞, so it never wins); the first maximum on ties,
     * and a NaN wins (the last one, if several), as in PyTorch.
     */
    public static MaxPooled maxPool2d(Tensor x, Window g) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClPool.maxPool2d(x, g);
        }
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
            if (isHalving(g, xs)) {
                ConvKernels.forBatch(g.batch(), workPerImage,
                        (b0, b1) -> HALVING.maxPool2x2(src, xo, xs, dst, idx, g, b0, b1));
            } else {
                ConvKernels.forBatch(g.batch(), workPerImage, (b0, b1) -> maxPool(src, xo, xs, dst, idx, g, b0, b1));
            }
        } else {
            double[] src = x.storage().doubles();
            double[] dst = values.storage().doubles();
            ConvKernels.forBatch(g.batch(), workPerImage, (b0, b1) -> maxPool(src, xo, xs, dst, idx, g, b0, b1));
        }
        return new MaxPooled(values, indices);
    }

    /**
     * The gradient of {@link #maxPool2d}: a zeroed {@code [N, C, H, W]} plus each {@code grad}
     * value added at the position its window's maximum came from ({@code indices}, flat within the plane).
     */
    public static Tensor maxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape) {
        if (DeviceCheck.anyOnDevice(grad, indices)) {
            return io.sparkgrad.backend.opencl.ClPool.maxPool2dBackward(grad, indices, inputShape);
        }
        Elementwise.requireFloat(grad, "maxPool2dBackward");
        Tensor g = grad.contiguousData();
        Tensor idx = indices.contiguousData();
        Tensor out = Tensor.empty(grad.dtype(), inputShape);
        int batch = inputShape[0];
        int planeOut = g.numel() / Math.max(1, batch * inputShape[1]);
        int planeIn = inputShape[2] * inputShape[3];
        int perImage = inputShape[1];
        long[] at = idx.storage().longs();
        int go = g.storageOffset();
        int io = idx.storageOffset();
        Parallel.Body body;
        if (g.dtype() == DType.FLOAT32) {
            float[] src = g.storage().floats();
            float[] dst = out.storage().floats();
            body = (b0, b1) -> {
                for (int plane = b0 * perImage; plane < b1 * perImage; plane++) {
                    int base = plane * planeIn;
                    for (int k = plane * planeOut, end = k + planeOut; k < end; k++) {
                        dst[base + (int) at[io + k]] += src[go + k];
                    }
                }
            };
        } else {
            double[] src = g.storage().doubles();
            double[] dst = out.storage().doubles();
            body = (b0, b1) -> {
                for (int plane = b0 * perImage; plane < b1 * perImage; plane++) {
                    int base = plane * planeIn;
                    for (int k = plane * planeOut, end = k + planeOut; k < end; k++) {
                        dst[base + (int) at[io + k]] += src[go + k];
                    }
                }
            };
        }
        ConvKernels.forBatch(batch, (long) perImage * planeOut, body);
        return out;
    }

    /**
     * Whether {@code g} is the pooling of nearly every CNN, {@code MaxPool2d(2)}: 2×2 windows,
     * stride 2, no padding, over rows with unit stride, which {@link #maxPool2x2} does faster.
     */
    static boolean isHalving(Window g, int[] xs) {
        return g.kernelH() == 2 && g.kernelW() == 2 && g.strideH() == 2 && g.strideW() == 2 && g.padH() == 0
                && g.padW() == 0 && xs[3] == 1;
    }

    /**
     * {@link #maxPool(float[], int, int[], float[], long[], Window, int, int)} for {@link #isHalving}
     * windows, with the same answer (value and index) but no data-dependent branch per element: the
     * general loop's "a larger value takes over" test is a coin flip on activations and costs a branch
     * misprediction every other element. Here the maximum comes from {@code Math.max} (branch-free),
     * the winner is the first of the four equal to it (selected with conditional moves), and its value
     * is read back from there, so {@code -0.0} ahead of {@code 0.0} keeps its sign as in the general
     * loop. A window holding a NaN (rare) takes a branch: the last NaN wins. Without the Vector API
     * module this is {@link #HALVING}; {@code VectorPoolKernels} does the same in vector lanes.
     */
    static void maxPool2x2(float[] x, int xo, int[] xs, float[] out, long[] idx, Window g, int b0, int b1) {
        int channels = g.channels();
        int w = g.width();
        int oh = g.outH();
        int ow = g.outW();
        int rowStride = xs[2];
        int o = b0 * channels * oh * ow;
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < channels; c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < oh; oy++) {
                    int top = plane + 2 * oy * rowStride;
                    int topAt = 2 * oy * w;
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int i = top + 2 * ox;
                        float v0 = x[i];
                        float v1 = x[i + 1];
                        float v2 = x[i + rowStride];
                        float v3 = x[i + rowStride + 1];
                        float m = Math.max(Math.max(v0, v1), Math.max(v2, v3));
                        int k;
                        if (m == m) {
                            k = 3;
                            k = v2 == m ? 2 : k;
                            k = v1 == m ? 1 : k;
                            k = v0 == m ? 0 : k;
                        } else {
                            k = v3 != v3 ? 3 : v2 != v2 ? 2 : v1 != v1 ? 1 : 0;
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

    // The float32 and float64 loops are the same code over different arrays (one JIT-compiled loop
    // each). Sizes are read into locals once: the output size is a division, too slow per element.

    private static void maxPool(float[] x, int xo, int[] xs, float[] out, long[] idx, Window g, int b0, int b1) {
        int channels = g.channels();
        int h = g.height();
        int w = g.width();
        int oh = g.outH();
        int ow = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int ph = g.padH();
        int pw = g.padW();
        int rowStride = xs[2];
        int colStride = xs[3];
        int o = b0 * channels * oh * ow;
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < channels; c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(oy * sh - ph, 0);
                    int y1 = Math.min(oy * sh - ph + kh, h);
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int x0 = Math.max(ox * sw - pw, 0);
                        int x1 = Math.min(ox * sw - pw + kw, w);
                        float best = Float.NEGATIVE_INFINITY;
                        int at = y0 * w + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            int line = plane + iy * rowStride;
                            for (int ix = x0; ix < x1; ix++) {
                                float v = x[line + ix * colStride];
                                // PyTorch's rule: a larger value or a NaN takes over.
                                if (v > best || v != v) {
                                    best = v;
                                    at = iy * w + ix;
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
        int channels = g.channels();
        int h = g.height();
        int w = g.width();
        int oh = g.outH();
        int ow = g.outW();
        int sh = g.strideH();
        int sw = g.strideW();
        int kh = g.kernelH();
        int kw = g.kernelW();
        int ph = g.padH();
        int pw = g.padW();
        int rowStride = xs[2];
        int colStride = xs[3];
        int o = b0 * channels * oh * ow;
        for (int b = b0; b < b1; b++) {
            for (int c = 0; c < channels; c++) {
                int plane = xo + b * xs[0] + c * xs[1];
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(oy * sh - ph, 0);
                    int y1 = Math.min(oy * sh - ph + kh, h);
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int x0 = Math.max(ox * sw - pw, 0);
                        int x1 = Math.min(ox * sw - pw + kw, w);
                        double best = Double.NEGATIVE_INFINITY;
                        int at = y0 * w + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            int line = plane + iy * rowStride;
                            for (int ix = x0; ix < x1; ix++) {
                                double v = x[line + ix * colStride];
                                // PyTorch's rule: a larger value or a NaN takes over.
                                if (v > best || v != v) {
                                    best = v;
                                    at = iy * w + ix;
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
