// Sparkgrad's OpenCL kernels for one floating-point type T (built twice: -DT=float and -DT=double).
// Tensors arrive as (buffer, offset, strides) with the strides packed in an int8, so views
// (transposes, slices, broadcasts with stride 0) are read in place without a copy first.
// Op codes match io.sparkgrad.backend.opencl.ClOps.

#ifdef SG_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define T4 SG_CAT(T, 4)
#define SG_CAT(a, b) SG_CAT2(a, b)
#define SG_CAT2(a, b) a##b

// sg_offset and SG_UNPACK come from strided.cl, which ClContext puts first.

__kernel void unary_op(int op, __global const T* x, int xo, int8 xs8, __global T* y, int8 shape8, int rank, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(xs8, xs);
    T v = x[xo + sg_offset(i, shape, xs, rank)];
    T r;
    switch (op) {
        case 0: r = -v; break;
        case 1: r = exp(v); break;
        case 2: r = log(v); break;
        case 3: r = log1p(v); break;
        case 4: r = sqrt(v); break;
        case 5: r = fabs(v); break;
        case 6: r = v < (T) 0 ? (T) 0 : v; break;
        case 7: r = (T) 1 / ((T) 1 + exp(-v)); break;
        case 8: r = tanh(v); break;
        case 9: r = v > (T) 0 ? (T) 1 : v < (T) 0 ? (T) -1 : v; break;
        default: r = NAN; break;
    }
    y[i] = r;
}

/** out = a op b over a broadcast shape; an operand given as a host scalar (xIsScalar) is read from xScalar. */
__kernel void binary_op(int op,
        __global const T* a, int ao, int8 as8, int aIsScalar, T aScalar,
        __global const T* b, int bo, int8 bs8, int bIsScalar, T bScalar,
        __global T* out, int oo, int8 os8, int8 shape8, int rank, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(as8, ast);
    SG_UNPACK(bs8, bst);
    SG_UNPACK(os8, ost);
    T x = aIsScalar ? aScalar : a[ao + sg_offset(i, shape, ast, rank)];
    T y = bIsScalar ? bScalar : b[bo + sg_offset(i, shape, bst, rank)];
    T r;
    switch (op) {
        case 0: r = x + y; break;
        case 1: r = x - y; break;
        case 2: r = x * y; break;
        case 3: r = x / y; break;
        case 4: r = pow(x, y); break;
        case 5: r = x > y ? (T) 1 : (T) 0; break;
        case 6: r = x >= y ? (T) 1 : (T) 0; break;
        case 7: r = x == y ? (T) 1 : (T) 0; break;
        case 8: r = y > (T) 0 ? x : (T) 0; break;   // ReLU backward: grad where result > 0
        default: r = NAN; break;
    }
    out[oo + sg_offset(i, shape, ost, rank)] = r;
}

/** out = cond != 0 ? x : y, all broadcast to shape; cond is already in T. */
__kernel void where_op(__global const T* c, int co, int8 cs8, __global const T* x, int xo, int8 xs8,
        __global const T* y, int yo, int8 ys8, __global T* out, int8 shape8, int rank, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(cs8, cst);
    SG_UNPACK(xs8, xst);
    SG_UNPACK(ys8, yst);
    out[i] = c[co + sg_offset(i, shape, cst, rank)] != (T) 0 ? x[xo + sg_offset(i, shape, xst, rank)]
                                                            : y[yo + sg_offset(i, shape, yst, rank)];
}

/** Clamps to [lo, hi]; a bound is skipped when its flag is 0. NaN stays NaN. */
__kernel void clamp_op(__global const T* x, int xo, int8 xs8, __global T* out, int8 shape8, int rank, int n,
        int hasLo, T lo, int hasHi, T hi) {
    int i = get_global_id(0);
    if (i >= n) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(xs8, xst);
    T v = x[xo + sg_offset(i, shape, xst, rank)];
    if (hasLo && v < lo) v = lo;
    if (hasHi && v > hi) v = hi;
    out[i] = v;
}

/**
 * One work-group per row of a contiguous [rows, len] block: a strided pass per work-item, then a
 * tree in local memory. op 0 = sum, 1 = max (NaN wins, as in PyTorch).
 */
__kernel void reduce_rows(int op, __global const T* x, int xo, __global T* out, int len, __local T* scratch) {
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int lsize = get_local_size(0);
    __global const T* r = x + xo + row * len;
    T acc = op == 0 ? (T) 0 : -INFINITY;
    for (int j = lid; j < len; j += lsize) {
        T v = r[j];
        acc = op == 0 ? acc + v : ((v > acc || isnan(v)) && !isnan(acc) ? v : acc);
    }
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = lsize / 2; s > 0; s >>= 1) {
        if (lid < s) {
            T o = scratch[lid + s];
            T m = scratch[lid];
            scratch[lid] = op == 0 ? m + o : ((o > m || isnan(o)) && !isnan(m) ? o : m);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[row] = scratch[0];
}

/** Index of the first maximum (NaN wins) of each row of a contiguous [rows, len] block. */
__kernel void argmax_rows(__global const T* x, int xo, __global long* out, int len, int rows) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const T* r = x + xo + row * len;
    int best = 0;
    T bv = r[0];
    for (int j = 1; j < len && !isnan(bv); j++) {
        T v = r[j];
        if (v > bv || isnan(v)) { bv = v; best = j; }
    }
    out[row] = best;
}

/** Softmax (or log-softmax) of each row of a contiguous [rows, len] block, max-shifted. */
__kernel void softmax_rows(__global const T* x, int xo, __global T* out, int len, int rows, int logOut) {
    int row = get_global_id(0);
    if (row >= rows) return;
    __global const T* r = x + xo + row * len;
    __global T* o = out + row * len;
    T m = -INFINITY;
    for (int j = 0; j < len; j++) m = fmax(m, r[j]);
    T s = 0;
    for (int j = 0; j < len; j++) s += exp(r[j] - m);
    if (logOut) {
        T lse = m + log(s);
        for (int j = 0; j < len; j++) o[j] = r[j] - lse;
    } else {
        T inv = (T) 1 / s;
        for (int j = 0; j < len; j++) o[j] = exp(r[j] - m) * inv;
    }
}

// Tiled matrix product C[b] = A[b] · B[b] for strided A [m,k] and B [k,n]; C contiguous [batch, m, n].
// A work-group computes a TILE×TILE block of C; each work-item one row and TILE/WIDTH consecutive
// columns... exactly WIDTH (4) columns held in a T4 accumulator. A and B tiles are staged in local
// memory (read through their strides, so transposed operands need no copy).
#define TILE 32
#define WIDTH 4
__kernel __attribute__((reqd_work_group_size(TILE / WIDTH, TILE, 1)))
void matmul_tiled(int m, int n, int k,
        __global const T* a, int ao, int ars, int acs, int abs,
        __global const T* b, int bo, int brs, int bcs, int bbs,
        __global T* c, int accumulate) {
    __local T as[TILE][TILE];
    __local T bs[TILE][TILE + WIDTH];
    int tx = get_local_id(0);            // column group: columns tx*WIDTH .. +WIDTH-1 of the tile
    int ty = get_local_id(1);            // row in the tile
    int row = get_group_id(1) * TILE + ty;
    int col0 = get_group_id(0) * TILE + tx * WIDTH;
    int batch = get_global_id(2);
    __global const T* ab = a + ao + batch * abs;
    __global const T* bb = b + bo + batch * bbs;
    T4 acc = (T4) (0);
    for (int t = 0; t < k; t += TILE) {
        // 256 work-items load 32×32 elements of each tile: WIDTH each.
        for (int w = 0; w < WIDTH; w++) {
            int lc = tx * WIDTH + w;
            int ar = get_group_id(1) * TILE + ty;
            int ac = t + lc;
            as[ty][lc] = (ar < m && ac < k) ? ab[ar * ars + ac * acs] : (T) 0;
            int br = t + ty;
            int bc = get_group_id(0) * TILE + lc;
            bs[ty][lc] = (br < k && bc < n) ? bb[br * brs + bc * bcs] : (T) 0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TILE; kk++) {
            T av = as[ty][kk];
            T4 bv = vload4(0, &bs[kk][tx * WIDTH]);
            acc = fma((T4) (av), bv, acc);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (row < m) {
        __global T* cr = c + (long) batch * m * n + row * n;
        T accs[WIDTH];
        vstore4(acc, 0, accs);
        for (int w = 0; w < WIDTH; w++) {
            int col = col0 + w;
            if (col < n) cr[col] = accumulate ? cr[col] + accs[w] : accs[w];
        }
    }
}

/** out[i] = x[.. index[i] along dim ..] over the index's shape (gather). */
__kernel void gather_op(__global const T* x, int xo, int8 xs8, __global const long* idx, int io, int8 is8,
        __global T* out, int8 shape8, int rank, int dim, int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(xs8, xst);
    SG_UNPACK(is8, ist);
    int rem = i;
    int xoff = xo;
    int ioff = io;
    int coord[8];
    for (int d = rank - 1; d >= 0; d--) {
        coord[d] = rem % shape[d];
        rem /= shape[d];
        ioff += coord[d] * ist[d];
    }
    int picked = (int) idx[ioff];
    for (int d = 0; d < rank; d++) xoff += (d == dim ? picked : coord[d]) * xst[d];
    out[i] = x[xoff];
}

/**
 * out (contiguous, zeroed, strides os) += src at index along dim. One work-item per fiber (all
 * positions along dim with the other coordinates fixed), so no two work-items write one element.
 */
__kernel void scatter_add_op(__global T* out, int8 os8, __global const long* idx, int io, int8 is8,
        __global const T* src, int so, int8 ss8, int8 shape8, int rank, int dim, int fibers) {
    int f = get_global_id(0);
    if (f >= fibers) return;
    SG_UNPACK(shape8, shape);
    SG_UNPACK(os8, ost);
    SG_UNPACK(is8, ist);
    SG_UNPACK(ss8, sst);
    int rem = f;
    int obase = 0, ibase = io, sbase = so;
    for (int d = rank - 1; d >= 0; d--) {
        if (d == dim) continue;
        int c = rem % shape[d];
        rem /= shape[d];
        obase += c * ost[d];
        ibase += c * ist[d];
        sbase += c * sst[d];
    }
    for (int j = 0; j < shape[dim]; j++) {
        int target = (int) idx[ibase + j * ist[dim]];
        out[obase + target * ost[dim]] += src[sbase + j * sst[dim]];
    }
}

/** im2col into the stored layout [P, N, L] (P = C·kh·kw, L = outH·outW); x is [N, C, H, W] with any strides. */
__kernel void im2col_op(__global const T* x, int xo, int4 xs, __global T* cols,
        int batch, int channels, int height, int width, int kh, int kw, int sh, int sw, int ph, int pw,
        int outH, int outW, int total) {
    int i = get_global_id(0);
    if (i >= total) return;
    int l = outH * outW;
    int li = i % l;
    int b = (i / l) % batch;
    int p = i / (l * batch);
    int kx = p % kw;
    int ky = (p / kw) % kh;
    int c = p / (kw * kh);
    int oy = li / outW;
    int ox = li % outW;
    int iy = oy * sh - ph + ky;
    int ix = ox * sw - pw + kx;
    cols[i] = (iy >= 0 && iy < height && ix >= 0 && ix < width)
            ? x[xo + b * xs.s0 + c * xs.s1 + iy * xs.s2 + ix * xs.s3] : (T) 0;
}

/** col2im: each pixel of [N, C, H, W] sums the column entries whose windows cover it (no atomics). */
__kernel void col2im_op(__global const T* cols, int co, int4 cs, __global T* out,
        int batch, int channels, int height, int width, int kh, int kw, int sh, int sw, int ph, int pw,
        int outH, int outW, int total) {
    int i = get_global_id(0);
    if (i >= total) return;
    int ix = i % width;
    int iy = (i / width) % height;
    int c = (i / (width * height)) % channels;
    int b = i / (width * height * channels);
    T acc = 0;
    for (int ky = 0; ky < kh; ky++) {
        int ny = iy + ph - ky;
        if (ny < 0 || ny % sh != 0) continue;
        int oy = ny / sh;
        if (oy >= outH) continue;
        for (int kx = 0; kx < kw; kx++) {
            int nx = ix + pw - kx;
            if (nx < 0 || nx % sw != 0) continue;
            int ox = nx / sw;
            if (ox >= outW) continue;
            int p = (c * kh + ky) * kw + kx;
            acc += cols[co + b * cs.s0 + p * cs.s1 + (oy * outW + ox) * cs.s2];
        }
    }
    out[i] = acc;
}
