// Max pooling kernels, built into the math program for T (see ClContext): the device twins of
// io.sparkgrad.backend.PoolKernels, with the same window walk so values, indices and gradient
// sums equal the CPU's exactly.

/**
 * One work-item per output element of [N, C, outH, outW]: the window's maximum (padding never
 * wins; a larger value or a NaN takes over, so the first maximum on ties and the last NaN) and its
 * flat position iy * width + ix within the input plane. x is [N, C, H, W] with any strides.
 */
__kernel void max_pool2d_op(__global const T* x, int xo, int4 xs, __global T* out, __global long* idx,
        int batch, int channels, int height, int width, int kh, int kw, int sh, int sw, int ph, int pw,
        int outH, int outW, int total) {
    int i = get_global_id(0);
    if (i >= total) return;
    int ox = i % outW;
    int oy = (i / outW) % outH;
    int c = (i / (outW * outH)) % channels;
    int b = i / (outW * outH * channels);
    int y0 = max(oy * sh - ph, 0);
    int y1 = min(oy * sh - ph + kh, height);
    int x0 = max(ox * sw - pw, 0);
    int x1 = min(ox * sw - pw + kw, width);
    int plane = xo + b * xs.s0 + c * xs.s1;
    T best = (T) -INFINITY;
    int at = y0 * width + x0;
    for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
            T v = x[plane + iy * xs.s2 + ix * xs.s3];
            if (v > best || isnan(v)) {
                best = v;
                at = iy * width + ix;
            }
        }
    }
    out[i] = best;
    idx[i] = at;
}

/**
 * The gradient of max_pool2d_op into a zeroed contiguous [N, C, H, W]: one work-item per (n, c)
 * plane adds that plane's gradients at their recorded positions in output order, the CPU's order,
 * so overlapping windows sum to the same value and no two work-items write the same element.
 */
__kernel void max_pool2d_backward_op(__global const T* grad, int go, __global const long* idx, int io,
        __global T* out, int planeOut, int planeIn, int planes) {
    int p = get_global_id(0);
    if (p >= planes) return;
    __global T* dst = out + (long) p * planeIn;
    int end = (p + 1) * planeOut;
    for (int k = p * planeOut; k < end; k++) {
        dst[(int) idx[io + k]] += grad[go + k];
    }
}
