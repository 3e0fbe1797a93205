package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.ConvKernels;
import io.sparkgrad.backend.DeviceCheck;
import io.sparkgrad.backend.Layout;
import io.sparkgrad.backend.UnaryKernel;
import org.jocl.Pointer;
import org.jocl.cl_mem;

import java.util.Arrays;

/**
 * The OpenCL side of the backend: each method is the device twin of a CPU kernel entry point
 * ({@code Elementwise}, {@code Layout}, {@code Reduce}, {@code Gemm}, {@code SoftmaxKernel},
 * {@code Indexing}, {@code ConvKernels}), called by that entry point when an operand lives on an
 * OpenCL device. Outputs are new tensors on the operands' device; inputs may be any views.
 */
public final class ClOps {
    /** One work-group size for every row reduction (a power of two), so the kernel compiles once. */
    private static final int REDUCE_LOCAL = 64;
    /** Matches TILE and WIDTH in math.cl. */
    private static final int MM_TILE = 32;
    private static final int MM_WIDTH = 4;

    private ClOps() {
    }

    // ------------------------------------------------------------------ allocation and transfers

    /** A new contiguous tensor on {@code device} (values unspecified). */
    public static Tensor empty(DType dtype, Device device, int... shape) {
        ClContext c = ClContext.of(device);
        ClBuffer buf = ClBuffer.allocate(c, dtype, Shapes.numel(shape));
        return Tensor.view(Storage.onDevice(dtype, buf), shape, Shapes.contiguousStrides(shape), 0);
    }

    public static Tensor zeros(DType dtype, Device device, int... shape) {
        Tensor t = empty(dtype, device, shape);
        fill(t, 0);
        return t;
    }

    /** A contiguous copy of a CPU tensor on {@code device}. */
    public static Tensor upload(Tensor host, Device device) {
        Tensor src = host.contiguousData();
        Tensor out = empty(src.dtype(), device, src.shape());
        int n = src.numel();
        if (n > 0) {
            long bytes = (long) n * src.dtype().byteSize();
            context(out).write(mem(out), 0, bytes, hostPointer(src.storage(), src.storageOffset()));
        }
        return out;
    }

    /** A contiguous CPU copy of a device tensor. */
    public static Tensor download(Tensor dev) {
        Tensor src = dev.isContiguous() ? dev : contiguousCopy(dev);
        Tensor out = Tensor.empty(src.dtype(), src.shape());
        int n = src.numel();
        if (n > 0) {
            long bytes = (long) n * src.dtype().byteSize();
            long offsetBytes = (long) src.storageOffset() * src.dtype().byteSize();
            context(src).read(mem(src), offsetBytes, bytes, hostPointer(out.storage(), 0));
        }
        return out;
    }

    /** {@code x} on {@code target}: a copy when it lives elsewhere (CPU to device, device to CPU, device to device). */
    public static Tensor move(Tensor x, Device target) {
        if (x.device().equals(target)) {
            return x;
        }
        if (target.isCpu()) {
            return download(x);
        }
        Tensor host = x.storage().onDevice() ? download(x) : x;
        return upload(host, target);
    }

    /** Waits until every kernel enqueued on {@code device} has finished. */
    public static void finish(Device device) {
        ClContext.of(device).finish();
    }

    /** Programs built on {@code device} so far (kernels compile once per context). */
    public static long programBuilds(Device device) {
        return ClContext.of(device).programBuilds();
    }

    // ------------------------------------------------------------------ layout

    public static Tensor contiguousCopy(Tensor src) {
        Tensor out = empty(src.dtype(), src.device(), src.shape());
        copyInto(src, out);
        return out;
    }

    /** {@code src} broadcast into {@code dst}, across devices when they differ (a transfer), dtypes converted. */
    public static void copyInto(Tensor src, Tensor dst) {
        if (!dst.storage().onDevice()) {
            Layout.copyInto(download(src), dst);
            return;
        }
        Tensor s = src;
        if (!src.device().equals(dst.device())) {
            s = move(src, dst.device());
        }
        int[] shape = dst.shape();
        int n = dst.numel();
        if (n == 0) {
            return;
        }
        int[] srcStrides = s.broadcastStrides(shape, "copy");
        ClContext c = context(dst);
        KernelArgs args = new KernelArgs().mem(mem(s)).i(s.storageOffset()).i8(srcStrides)
                .mem(mem(dst)).i(dst.storageOffset()).i8(dst.stride()).i8(shape).i(shape.length).i(n);
        c.launch(c.kernel("convert", "copy_" + clType(s.dtype()) + "_" + clType(dst.dtype())), args,
                new long[] {n}, null);
    }

    public static void fill(Tensor dst, double value) {
        int n = dst.numel();
        if (n == 0) {
            return;
        }
        ClContext c = context(dst);
        KernelArgs args = new KernelArgs().mem(mem(dst)).i(dst.storageOffset()).i8(dst.stride()).i8(dst.shape())
                .i(dst.dim()).i(n);
        switch (dst.dtype()) {
            case FLOAT32: args.f32((float) value); break;
            case FLOAT64: args.f64(value); break;
            default: args.i64((long) value); break;
        }
        c.launch(c.kernel("convert", "fill_" + clType(dst.dtype())), args, new long[] {n}, null);
    }

    // ------------------------------------------------------------------ elementwise

    public static Tensor unary(UnaryKernel kernel, Tensor x) {
        requireFloat(x, kernel.name().toLowerCase());
        Tensor out = empty(x.dtype(), x.device(), x.shape());
        int n = x.numel();
        if (n > 0) {
            ClContext c = context(x);
            KernelArgs args = new KernelArgs().i(unaryCode(kernel)).mem(mem(x)).i(x.storageOffset()).i8(x.stride())
                    .mem(mem(out)).i8(x.shape()).i(x.dim()).i(n);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "unary_op"), args, new long[] {n}, null);
        }
        return out;
    }

    public static Tensor binary(BinaryKernel kernel, Tensor a, Tensor b, String op) {
        Device d = DeviceCheck.common(op, a, b);
        int[] shape = Shapes.broadcast(op, a.shape(), b.shape());
        Tensor out = empty(a.dtype(), d, shape);
        binaryInto(kernel, a, b, out, op);
        return out;
    }

    /** {@code out = kernel(a, b)}; out may alias a. A CPU 0-d operand goes to the kernel as a value. */
    public static void binaryInto(BinaryKernel kernel, Tensor a, Tensor b, Tensor out, String op) {
        binaryInto(binaryCode(kernel), a, b, out, op);
    }

    private static void binaryInto(int code, Tensor a, Tensor b, Tensor out, String op) {
        DeviceCheck.common(op, a, b, out);
        requireFloat(a, op);
        requireFloat(b, op);
        if (a.dtype() != b.dtype() || out.dtype() != a.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + ", " + b.dtype() + " into "
                    + out.dtype() + ")");
        }
        int[] shape = out.shape();
        int n = out.numel();
        if (n == 0) {
            return;
        }
        ClContext c = context(out);
        KernelArgs args = new KernelArgs().i(code);
        operand(args, a, out, shape, op);
        operand(args, b, out, shape, op);
        args.mem(mem(out)).i(out.storageOffset()).i8(out.stride()).i8(shape).i(shape.length).i(n);
        c.launch(c.kernel(c.mathProgram(out.dtype()), "binary_op"), args, new long[] {n}, null);
    }

    /** Adds one binary operand: a buffer with broadcast strides, or a CPU scalar by value. */
    private static void operand(KernelArgs args, Tensor t, Tensor out, int[] shape, String op) {
        boolean scalar = !t.storage().onDevice();
        if (scalar) {
            args.mem(mem(out)).i(0).i8(new int[0]).i(1);
            double v = t.item();
            if (out.dtype() == DType.FLOAT64) {
                args.f64(v);
            } else {
                args.f32((float) v);
            }
        } else {
            args.mem(mem(t)).i(t.storageOffset()).i8(t.broadcastStrides(shape, op)).i(0);
            if (out.dtype() == DType.FLOAT64) {
                args.f64(0);
            } else {
                args.f32(0);
            }
        }
    }

    /** ReLU's backward, {@code grad where result > 0}. */
    public static Tensor reluBackward(Tensor grad, Tensor result) {
        Tensor out = empty(grad.dtype(), DeviceCheck.common("relu_backward", grad, result), grad.shape());
        binaryInto(8, grad, result, out, "relu_backward");
        return out;
    }

    public static Tensor where(Tensor cond, Tensor x, Tensor y) {
        Device d = DeviceCheck.common("where", cond, x, y);
        int[] shape = Shapes.broadcast("where", Shapes.broadcast("where", cond.shape(), x.shape()), y.shape());
        Tensor cx = onDevice(cond, d);
        if (cx.dtype() != x.dtype()) {
            Tensor converted = empty(x.dtype(), d, cx.shape());
            copyInto(cx, converted);
            cx = converted;
        }
        Tensor xx = onDevice(x, d);
        Tensor yy = onDevice(y, d);
        Tensor out = empty(x.dtype(), d, shape);
        int n = out.numel();
        if (n > 0) {
            ClContext c = context(out);
            KernelArgs args = new KernelArgs()
                    .mem(mem(cx)).i(cx.storageOffset()).i8(cx.broadcastStrides(shape, "where"))
                    .mem(mem(xx)).i(xx.storageOffset()).i8(xx.broadcastStrides(shape, "where"))
                    .mem(mem(yy)).i(yy.storageOffset()).i8(yy.broadcastStrides(shape, "where"))
                    .mem(mem(out)).i8(shape).i(shape.length).i(n);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "where_op"), args, new long[] {n}, null);
        }
        return out;
    }

    /** Every element limited to [min, max]; a NaN bound is no bound. */
    public static Tensor clamp(Tensor x, double min, double max) {
        Tensor out = empty(x.dtype(), x.device(), x.shape());
        int n = x.numel();
        if (n > 0) {
            ClContext c = context(x);
            KernelArgs args = new KernelArgs().mem(mem(x)).i(x.storageOffset()).i8(x.stride()).mem(mem(out))
                    .i8(x.shape()).i(x.dim()).i(n);
            scalarArg(args.i(Double.isNaN(min) ? 0 : 1), x.dtype(), Double.isNaN(min) ? 0 : min);
            scalarArg(args.i(Double.isNaN(max) ? 0 : 1), x.dtype(), Double.isNaN(max) ? 0 : max);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "clamp_op"), args, new long[] {n}, null);
        }
        return out;
    }

    // ------------------------------------------------------------------ reductions

    /** Sum over {@code dims} (sorted, wrapped); the result keeps the other dimensions. */
    public static Tensor sum(Tensor x, int[] dims) {
        return reduce(x, dims, 0, "sum");
    }

    /** Maximum over {@code dims}; NaN wins. */
    public static Tensor amax(Tensor x, int[] dims) {
        return reduce(x, dims, 1, "max");
    }

    private static Tensor reduce(Tensor x, int[] dims, int op, String name) {
        requireFloat(x, name);
        Rows r = Rows.of(x, dims);
        Tensor out = empty(x.dtype(), x.device(), r.keptShape);
        if (r.rows == 0) {
            return out;
        }
        if (r.len == 0) {
            if (op == 1) {
                throw new IllegalArgumentException("max: cannot reduce over an empty dimension of shape "
                        + Shapes.str(x.shape()));
            }
            fill(out, 0);
            return out;
        }
        int local = REDUCE_LOCAL;
        ClContext c = context(x);
        KernelArgs args = new KernelArgs().i(op).mem(mem(r.data)).i(r.data.storageOffset()).mem(mem(out)).i(r.len)
                .local((long) local * x.dtype().byteSize());
        c.launch(c.kernel(c.mathProgram(x.dtype()), "reduce_rows"), args, new long[] {(long) r.rows * local},
                new long[] {local});
        return out;
    }

    /** Index of the first maximum along {@code dim} (wrapped), int64. */
    public static Tensor argmax(Tensor x, int dim) {
        Rows r = Rows.of(x, new int[] {dim});
        if (r.len == 0) {
            throw new IllegalArgumentException("argmax: cannot reduce over an empty dimension of shape "
                    + Shapes.str(x.shape()));
        }
        Tensor out = empty(DType.INT64, x.device(), r.keptShape);
        if (r.rows > 0) {
            ClContext c = context(x);
            KernelArgs args = new KernelArgs().mem(mem(r.data)).i(r.data.storageOffset()).mem(mem(out)).i(r.len)
                    .i(r.rows);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "argmax_rows"), args, new long[] {r.rows}, null);
        }
        return out;
    }

    /** Softmax or log-softmax along {@code dim} (wrapped), in a new contiguous tensor of x's shape. */
    public static Tensor softmax(Tensor x, int dim, boolean log) {
        requireFloat(x, log ? "log_softmax" : "softmax");
        int rank = x.dim();
        if (rank == 0) {
            Tensor out = empty(x.dtype(), x.device());
            fill(out, log ? 0 : 1);
            return out;
        }
        Rows r = Rows.of(x, new int[] {dim});
        Tensor rows = empty(x.dtype(), x.device(), r.data.shape());
        if (r.rows > 0 && r.len > 0) {
            ClContext c = context(x);
            KernelArgs args = new KernelArgs().mem(mem(r.data)).i(r.data.storageOffset()).mem(mem(rows)).i(r.len)
                    .i(r.rows).i(log ? 1 : 0);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "softmax_rows"), args, new long[] {r.rows}, null);
        }
        if (dim == rank - 1) {
            return rows;
        }
        return contiguousCopy(rows.permuteView(inverse(r.perm)));
    }

    // ------------------------------------------------------------------ matrix products

    /** {@code [m,k] · [k,n]}. */
    public static Tensor mm(Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), DeviceCheck.common("mm", a, b), a.size(0), b.size(1));
        matmul(a, a.stride(0), a.stride(1), 0, b, b.stride(0), b.stride(1), 0, out, 1, false);
        return out;
    }

    /** {@code bias + [m,k] · [k,n]}, the bias broadcast to the output. */
    public static Tensor addmm(Tensor bias, Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), DeviceCheck.common("addmm", bias, a, b), a.size(0), b.size(1));
        copyInto(bias, out);
        matmul(a, a.stride(0), a.stride(1), 0, b, b.stride(0), b.stride(1), 0, out, 1, true);
        return out;
    }

    /** {@code [B,m,k] · [B,k,n]}. */
    public static Tensor bmm(Tensor a, Tensor b) {
        Tensor out = empty(a.dtype(), DeviceCheck.common("bmm", a, b), a.size(0), a.size(1), b.size(2));
        Tensor a2 = a.viewOf(new int[] {a.size(1), a.size(2)}, new int[] {a.stride(1), a.stride(2)}, a.storageOffset());
        Tensor b2 = b.viewOf(new int[] {b.size(1), b.size(2)}, new int[] {b.stride(1), b.stride(2)}, b.storageOffset());
        matmul(a2, a.stride(1), a.stride(2), a.stride(0), b2, b.stride(1), b.stride(2), b.stride(0), out, a.size(0), false);
        return out;
    }

    private static void matmul(Tensor a, int ars, int acs, int abs, Tensor b, int brs, int bcs, int bbs,
                               Tensor out, int batch, boolean accumulate) {
        if (a.dtype() != b.dtype() || out.dtype() != a.dtype()) {
            throw new IllegalArgumentException("mm: dtypes differ (" + a.dtype() + ", " + b.dtype() + ")");
        }
        int m = a.size(0);
        int k = a.size(1);
        int n = b.size(1);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        ClContext c = context(out);
        KernelArgs args = new KernelArgs().i(m).i(n).i(k)
                .mem(mem(a)).i(a.storageOffset()).i(ars).i(acs).i(abs)
                .mem(mem(b)).i(b.storageOffset()).i(brs).i(bcs).i(bbs)
                .mem(mem(out)).i(accumulate ? 1 : 0);
        long groupsN = (n + MM_TILE - 1) / MM_TILE;
        long groupsM = (m + MM_TILE - 1) / MM_TILE;
        c.launch(c.kernel(c.mathProgram(out.dtype()), "matmul_tiled"), args,
                new long[] {groupsN * (MM_TILE / MM_WIDTH), groupsM * MM_TILE, batch},
                new long[] {MM_TILE / MM_WIDTH, MM_TILE, 1});
    }

    // ------------------------------------------------------------------ indexing

    /** {@code out[..i..] = x[.. index[..i..] along dim ..]}. */
    public static Tensor gather(Tensor x, int dim, Tensor index) {
        Device d = DeviceCheck.common("gather", x, index);
        Tensor idx = onDevice(index, d);
        checkIndex("gather", x.shape(), dim, idx, true);
        Tensor out = empty(x.dtype(), d, idx.shape());
        int n = idx.numel();
        if (n > 0) {
            ClContext c = context(out);
            KernelArgs args = new KernelArgs().mem(mem(x)).i(x.storageOffset()).i8(x.stride())
                    .mem(mem(idx)).i(idx.storageOffset()).i8(idx.stride())
                    .mem(mem(out)).i8(idx.shape()).i(idx.dim()).i(dim).i(n);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "gather_op"), args, new long[] {n}, null);
        }
        return out;
    }

    /** Zeros of {@code shape} plus {@code src} added at {@code index} along {@code dim}. */
    public static Tensor scatterAddIntoZeros(int[] shape, int dim, Tensor index, Tensor src) {
        Device d = DeviceCheck.common("scatter_add", index, src);
        Tensor idx = onDevice(index, d);
        Tensor s = onDevice(src, d);
        checkIndex("scatter_add", shape, dim, idx, false);
        if (!Arrays.equals(idx.shape(), s.shape())) {
            throw new IllegalArgumentException("scatter_add: index shape " + Shapes.str(idx.shape())
                    + " must equal the source's shape " + Shapes.str(s.shape()));
        }
        Tensor out = zeros(s.dtype(), d, shape);
        int along = idx.dim() == 0 ? 1 : idx.size(dim);
        int fibers = along == 0 ? 0 : idx.numel() / along;
        if (fibers > 0) {
            ClContext c = context(out);
            KernelArgs args = new KernelArgs().mem(mem(out)).i8(out.stride())
                    .mem(mem(idx)).i(idx.storageOffset()).i8(idx.stride())
                    .mem(mem(s)).i(s.storageOffset()).i8(s.stride())
                    .i8(idx.shape()).i(idx.dim()).i(dim).i(fibers);
            c.launch(c.kernel(c.mathProgram(s.dtype()), "scatter_add_op"), args, new long[] {fibers}, null);
        }
        return out;
    }

    /** Index tensors are checked on the host (one small transfer): a bad index must fail, not corrupt memory. */
    private static void checkIndex(String op, int[] shape, int dim, Tensor index, boolean gather) {
        if (index.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": index must be an int64 tensor, got " + index.dtype());
        }
        if (index.dim() != shape.length) {
            throw new IllegalArgumentException(op + ": index has " + index.dim() + " dimensions but the "
                    + (gather ? "input" : "output") + " has " + shape.length);
        }
        for (int d = 0; d < shape.length; d++) {
            if (d != dim && index.size(d) > shape[d]) {
                throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape())
                        + " is larger than " + Shapes.str(shape) + " in dimension " + d);
            }
        }
        long[] values = index.toLongArray();
        int size = shape.length == 0 ? 1 : shape[dim];
        for (long v : values) {
            if (v < 0 || v >= size) {
                throw new IndexOutOfBoundsException(op + ": index " + v + " is out of bounds for dimension " + dim
                        + " with size " + size);
            }
        }
    }

    // ------------------------------------------------------------------ convolution

    /** {@code unfold} to {@code [N, P, L]}, stored as {@code [P, N, L]} like the CPU kernel. */
    public static Tensor im2col(Tensor x, ConvKernels.Window g) {
        requireFloat(x, "im2col");
        Tensor stored = empty(x.dtype(), x.device(), g.patch(), g.batch(), g.blocks());
        int total = stored.numel();
        if (total > 0) {
            ClContext c = context(x);
            KernelArgs args = new KernelArgs().mem(mem(x)).i(x.storageOffset()).i4(x.stride()).mem(mem(stored));
            window(args, g).i(total);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "im2col_op"), args, new long[] {total}, null);
        }
        int l = g.blocks();
        return Tensor.view(stored.storage(), g.columnShape(), new int[] {l, g.batch() * l, 1}, 0);
    }

    /** {@code fold}: {@code [N, P, L]} summed back into a new contiguous {@code [N, C, H, W]}. */
    public static Tensor col2im(Tensor cols, ConvKernels.Window g) {
        requireFloat(cols, "col2im");
        Tensor out = empty(cols.dtype(), cols.device(), g.imageShape());
        int total = out.numel();
        if (total > 0) {
            ClContext c = context(cols);
            KernelArgs args = new KernelArgs().mem(mem(cols)).i(cols.storageOffset()).i4(cols.stride()).mem(mem(out));
            window(args, g).i(total);
            c.launch(c.kernel(c.mathProgram(cols.dtype()), "col2im_op"), args, new long[] {total}, null);
        }
        return out;
    }

    static KernelArgs window(KernelArgs args, ConvKernels.Window g) {
        return args.i(g.batch()).i(g.channels()).i(g.height()).i(g.width()).i(g.kernelH()).i(g.kernelW())
                .i(g.strideH()).i(g.strideW()).i(g.padH()).i(g.padW()).i(g.outH()).i(g.outW());
    }

    // ------------------------------------------------------------------ helpers

    /**
     * {@code x} reduced along {@code dims}: permuted so those dimensions come last and made
     * contiguous, so each output element is one run of {@code len} values.
     */
    private static final class Rows {
        final Tensor data;
        final int[] keptShape;
        final int[] perm;
        final int rows;
        final int len;

        private Rows(Tensor data, int[] keptShape, int[] perm, int rows, int len) {
            this.data = data;
            this.keptShape = keptShape;
            this.perm = perm;
            this.rows = rows;
            this.len = len;
        }

        static Rows of(Tensor x, int[] dims) {
            int rank = x.dim();
            int[] wrapped = Shapes.wrapDims(dims, Math.max(rank, 1));
            boolean[] reduced = new boolean[Math.max(rank, 1)];
            for (int d : wrapped) {
                reduced[d] = true;
            }
            int[] perm = new int[rank];
            int[] kept = new int[rank];
            int p = 0;
            int k = 0;
            int rows = 1;
            int len = 1;
            for (int d = 0; d < rank; d++) {
                if (!reduced[d]) {
                    perm[p++] = d;
                    kept[k++] = x.size(d);
                    rows *= x.size(d);
                }
            }
            for (int d = 0; d < rank; d++) {
                if (reduced[d]) {
                    perm[p++] = d;
                    len *= x.size(d);
                }
            }
            Tensor arranged = x.permuteView(perm);
            Tensor data = arranged.isContiguous() ? arranged : contiguousCopy(arranged);
            return new Rows(data, Arrays.copyOf(kept, k), perm, rows, len);
        }
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
        }
        return inv;
    }

    /** {@code t} on device {@code d}: itself, or a CPU scalar uploaded (the only CPU operand allowed). */
    private static Tensor onDevice(Tensor t, Device d) {
        return t.device().equals(d) ? t : upload(t, d);
    }

    static void scalarArg(KernelArgs args, DType dtype, double v) {
        if (dtype == DType.FLOAT64) {
            args.f64(v);
        } else {
            args.f32((float) v);
        }
    }

    static cl_mem mem(Tensor t) {
        return ((ClBuffer) t.storage().memory()).mem();
    }

    static ClContext context(Tensor t) {
        return ((ClBuffer) t.storage().memory()).context;
    }

    private static Pointer hostPointer(Storage s, int elementOffset) {
        switch (s.dtype()) {
            case FLOAT32: return Pointer.to(s.floats()).withByteOffset((long) elementOffset * Float.BYTES);
            case FLOAT64: return Pointer.to(s.doubles()).withByteOffset((long) elementOffset * Double.BYTES);
            default: return Pointer.to(s.longs()).withByteOffset((long) elementOffset * Long.BYTES);
        }
    }

    private static String clType(DType t) {
        switch (t) {
            case FLOAT32: return "float";
            case FLOAT64: return "double";
            default: return "long";
        }
    }

    static void requireFloat(Tensor t, String op) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": expected a float32 or float64 tensor, got " + t.dtype());
        }
    }

    private static int unaryCode(UnaryKernel k) {
        switch (k) {
            case NEG: return 0;
            case EXP: return 1;
            case LOG: return 2;
            case LOG1P: return 3;
            case SQRT: return 4;
            case ABS: return 5;
            case RELU: return 6;
            case SIGMOID: return 7;
            case TANH: return 8;
            case SIGN: return 9;
            default: throw new IllegalArgumentException("no OpenCL kernel for " + k);
        }
    }

    private static int binaryCode(BinaryKernel k) {
        switch (k) {
            case ADD: return 0;
            case SUB: return 1;
            case MUL: return 2;
            case DIV: return 3;
            case POW: return 4;
            case GT: return 5;
            case GE: return 6;
            case EQ: return 7;
            default: throw new IllegalArgumentException("no OpenCL kernel for " + k);
        }
    }
}
