package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

/**
 * im2col and its adjoint col2im: the data movement that turns a 2-D convolution (and average
 * pooling) into one large matrix product.
 *
 * <p>im2col copies every {@code kernelH × kernelW} window of a {@code [N, C, H, W]} input into a
 * column of {@code P = C·kernelH·kernelW} values (zeros where the window hangs over the padding).
 * The result is PyTorch's {@code unfold} shape {@code [N, P, L]} ({@code L} windows per image), but
 * it is <em>stored</em> as {@code [P, N, L]}, with strides {@code [L, N·L, 1]}: then
 * {@code permute(1, 0, 2).reshape(P, N·L)} is a free view and a convolution is a single GEMM
 * {@code [out, P] · [P, N·L]} for the whole batch, whose result rows are already laid out image by
 * image. Each row of that layout is written (and, in col2im, read) along the output width, in
 * contiguous runs, with the padding handled by clipping the run instead of testing every element.
 *
 * <p>col2im sums every window value back into the image position it came from (overlapping windows
 * add up); it reads its input through arbitrary strides and is fastest for the layout above.
 */
public final class ConvKernels {
    /** Below about this many element moves a loop is not worth handing to other threads. */
    private static final int MIN_PARALLEL_WORK = 1 << 15;

    private ConvKernels() {
    }

    /**
     * A sliding window over {@code [batch, channels, height, width]}: kernel, stride and (zero)
     * padding per spatial dimension, and the output size they give.
     */
    public record Window(int batch, int channels, int height, int width,
                         int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

        /** Validates the geometry with PyTorch's messages. */
        public Window {
            if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0) {
                throw new IllegalArgumentException("invalid window: kernel (" + kernelH + ", " + kernelW + "), stride ("
                        + strideH + ", " + strideW + ") and padding (" + padH + ", " + padW
                        + "): kernel and stride must be at least 1, padding at least 0");
            }
            // Fields are assigned after this body, so the output size is computed from the parameters.
            int oh = outSize(height, kernelH, strideH, padH);
            int ow = outSize(width, kernelW, strideW, padW);
            if (oh < 1 || ow < 1) {
                throw new IllegalArgumentException("Given input size: (" + channels + "x" + height + "x" + width
                        + "). Calculated output size: (" + channels + "x" + oh + "x" + ow
                        + "). Output size is too small (kernel (" + kernelH + ", " + kernelW + "), stride (" + strideH
                        + ", " + strideW + "), padding (" + padH + ", " + padW + "))");
            }
        }

        /** The window over a 4-D tensor of {@code shape}. */
        public static Window of(int[] shape, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
            if (shape.length != 4) {
                throw new IllegalArgumentException("expected a 4-D input [N, C, H, W], got shape " + Shapes.str(shape));
            }
            return new Window(shape[0], shape[1], shape[2], shape[3], kernelH, kernelW, strideH, strideW, padH, padW);
        }

        public int outH() {
            return outSize(height, kernelH, strideH, padH);
        }

        public int outW() {
            return outSize(width, kernelW, strideW, padW);
        }

        /** Positions of a window of {@code kernel} sliding by {@code stride} over {@code size + 2·pad} (floor). */
        private static int outSize(int size, int kernel, int stride, int pad) {
            return Math.floorDiv(size + 2 * pad - kernel, stride) + 1;
        }

        /** Number of window positions per image, {@code L = outH · outW}. */
        public int blocks() {
            return outH() * outW();
        }

        /** Values in one window, {@code P = channels · kernelH · kernelW}. */
        public int patch() {
            return channels * kernelH * kernelW;
        }

        public int[] imageShape() {
            return new int[] {batch, channels, height, width};
        }

        public int[] columnShape() {
            return new int[] {batch, patch(), blocks()};
        }

        /** First output column whose window column {@code kx} lands inside the image (not in the padding). */
        int firstInside(int kx) {
            return Math.max(0, -Math.floorDiv(kx - padW, strideW));
        }

        /** One past the last output column whose window column {@code kx} lands inside the image. */
        int endInside(int kx) {
            return Math.min(outW(), Math.floorDiv(width - 1 + padW - kx, strideW) + 1);
        }
    }

    /** {@code unfold}: {@code [N, C, H, W]} (any strides) to {@code [N, P, L]}, stored as {@code [P, N, L]}. */
    public static Tensor im2col(Tensor x, Window g) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.im2col(x, g);
        }
        Elementwise.requireFloat(x, "im2col");
        int n = g.batch();
        int p = g.patch();
        int l = g.blocks();
        Tensor stored = Tensor.empty(x.dtype(), p, n, l);
        int[] xs = x.stride();
        int xo = x.storageOffset();
        if (x.dtype() == DType.FLOAT32) {
            float[] src = x.storage().floats();
            float[] dst = stored.storage().floats();
            forBatch(n, (long) l * p, (b0, b1) -> im2col(src, xo, xs, dst, g, b0, b1));
        } else {
            double[] src = x.storage().doubles();
            double[] dst = stored.storage().doubles();
            forBatch(n, (long) l * p, (b0, b1) -> im2col(src, xo, xs, dst, g, b0, b1));
        }
        return Tensor.view(stored.storage(), g.columnShape(), new int[] {l, n * l, 1}, 0);
    }

    /** {@code fold}: {@code [N, P, L]} (any strides) summed back into a new contiguous {@code [N, C, H, W]}. */
    public static Tensor col2im(Tensor cols, Window g) {
        if (DeviceCheck.anyOnDevice(cols)) {
            return io.sparkgrad.backend.opencl.ClOps.col2im(cols, g);
        }
        Elementwise.requireFloat(cols, "col2im");
        Tensor out = Tensor.empty(cols.dtype(), g.imageShape());
        int[] cs = cols.stride();
        int co = cols.storageOffset();
        if (cols.dtype() == DType.FLOAT32) {
            float[] src = cols.storage().floats();
            float[] dst = out.storage().floats();
            forBatch(g.batch(), (long) g.blocks() * g.patch(), (b0, b1) -> col2im(src, co, cs, dst, g, b0, b1));
        } else {
            double[] src = cols.storage().doubles();
            double[] dst = out.storage().doubles();
            forBatch(g.batch(), (long) g.blocks() * g.patch(), (b0, b1) -> col2im(src, co, cs, dst, g, b0, b1));
        }
        return out;
    }

    /**
     * Runs {@code body} over images {@code [0, n)} on the intra-op pool. Images are independent
     * (each writes only its own columns or pixels), so any split of the batch is safe.
     */
    static void forBatch(int n, long workPerImage, Parallel.Body body) {
        int grain = (int) Math.max(1, MIN_PARALLEL_WORK / Math.max(1, workPerImage));
        Parallel.forRange(n, grain, body);
    }

    // The float32 and float64 loops are the same code over different arrays (one JIT-compiled loop
    // each). Row p = (c·kh + ky)·kw + kx of the columns holds, for every window (oy, ox), the pixel
    // (oy·sh - ph + ky, ox·sw - pw + kx) of channel c. The destination starts zeroed, so padding is
    // simply not written.

    private static void im2col(float[] x, int xo, int[] xs, float[] out, Window g, int b0, int b1) {
        int oh = g.outH();
        int ow = g.outW();
        int n = g.batch();
        int l = g.blocks();
        int h = g.height();
        int sh = g.strideH();
        int ph = g.padH();
        int step = g.strideW() * xs[3];
        int p = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++, p++) {
                    int lo = g.firstInside(kx);
                    int hi = g.endInside(kx);
                    int shift = (kx - g.padW()) * xs[3];
                    // Row p of images b0..b1 is one contiguous stretch of the output: write it in order.
                    for (int b = b0; b < b1; b++) {
                        int plane = xo + b * xs[0] + c * xs[1] + shift;
                        int row = (p * n + b) * l;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int src = plane + iy * xs[2];
                            int dst = row + oy * ow;
                            if (step == 1) {
                                // Unit stride (the common case): a loop the JIT vectorizes.
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] = x[src + ox];
                                }
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] = x[src + ox * step];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void im2col(double[] x, int xo, int[] xs, double[] out, Window g, int b0, int b1) {
        int oh = g.outH();
        int ow = g.outW();
        int n = g.batch();
        int l = g.blocks();
        int h = g.height();
        int sh = g.strideH();
        int ph = g.padH();
        int step = g.strideW() * xs[3];
        int p = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++, p++) {
                    int lo = g.firstInside(kx);
                    int hi = g.endInside(kx);
                    int shift = (kx - g.padW()) * xs[3];
                    // Row p of images b0..b1 is one contiguous stretch of the output: write it in order.
                    for (int b = b0; b < b1; b++) {
                        int plane = xo + b * xs[0] + c * xs[1] + shift;
                        int row = (p * n + b) * l;
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int src = plane + iy * xs[2];
                            int dst = row + oy * ow;
                            if (step == 1) {
                                // Unit stride (the common case): a loop the JIT vectorizes.
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] = x[src + ox];
                                }
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] = x[src + ox * step];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void col2im(float[] cols, int co, int[] cs, float[] out, Window g, int b0, int b1) {
        int oh = g.outH();
        int ow = g.outW();
        int w = g.width();
        int h = g.height();
        int sh = g.strideH();
        int sw = g.strideW();
        int ph = g.padH();
        int plane = h * w;
        int p = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++, p++) {
                    int lo = g.firstInside(kx);
                    int hi = g.endInside(kx);
                    // Row p of images b0..b1, read in storage order when the columns are laid out [P, N, L].
                    for (int b = b0; b < b1; b++) {
                        int image = (b * g.channels() + c) * plane + kx - g.padW();
                        int row = co + b * cs[0] + p * cs[1];
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int dst = image + iy * w;
                            int src = row + oy * ow * cs[2];
                            if (sw == 1 && cs[2] == 1) {
                                // Unit strides (the common case): a loop the JIT vectorizes.
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] += cols[src + ox];
                                }
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox * sw] += cols[src + ox * cs[2]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static void col2im(double[] cols, int co, int[] cs, double[] out, Window g, int b0, int b1) {
        int oh = g.outH();
        int ow = g.outW();
        int w = g.width();
        int h = g.height();
        int sh = g.strideH();
        int sw = g.strideW();
        int ph = g.padH();
        int plane = h * w;
        int p = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ky = 0; ky < g.kernelH(); ky++) {
                for (int kx = 0; kx < g.kernelW(); kx++, p++) {
                    int lo = g.firstInside(kx);
                    int hi = g.endInside(kx);
                    // Row p of images b0..b1, read in storage order when the columns are laid out [P, N, L].
                    for (int b = b0; b < b1; b++) {
                        int image = (b * g.channels() + c) * plane + kx - g.padW();
                        int row = co + b * cs[0] + p * cs[1];
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * sh - ph + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            int dst = image + iy * w;
                            int src = row + oy * ow * cs[2];
                            if (sw == 1 && cs[2] == 1) {
                                // Unit strides (the common case): a loop the JIT vectorizes.
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox] += cols[src + ox];
                                }
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    out[dst + ox * sw] += cols[src + ox * cs[2]];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
