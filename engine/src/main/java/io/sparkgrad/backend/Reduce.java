package io.sparkgrad.backend;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

/**
 * Reductions over a set of dimensions. The input is viewed with the kept dimensions first and the
 * reduced ones last, so each output element reduces one contiguous block.
 */
public final class Reduce {
    private Reduce() {
    }

    private static final VectorKernels V = VectorKernels.INSTANCE;
    /** Fixed chunk of a full sum: partial sums are combined in chunk order, so the result does not depend on the thread count. */
    private static final int SUM_CHUNK = 1 << 16;

    /** Sum over {@code dims} (sorted, wrapped); the result has the kept dimensions only. */
    public static Tensor sum(Tensor x, int[] dims) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.sum(x, dims);
        }
        Elementwise.requireFloat(x, "sum");
        if (x.isContiguous() && x.dim() > 0 && dims.length > 0 && dims.length < x.dim() && isLeadingPrefix(dims)) {
            return sumLeading(x, dims.length);
        }
        Blocks b = Blocks.of(x, dims);
        Tensor out = Tensor.empty(x.dtype(), b.keptShape);
        Storage src = b.data.storage();
        Storage dst = out.storage();
        int base = b.data.storageOffset();
        if (b.outer == 1) {
            int chunks = (b.block + SUM_CHUNK - 1) / SUM_CHUNK;
            double[] partial = new double[Math.max(1, chunks)];
            Parallel.forRange(chunks, 1, (cs, ce) -> {
                for (int c = cs; c < ce; c++) {
                    int from = c * SUM_CHUNK;
                    partial[c] = sumRun(src, base + from, Math.min(SUM_CHUNK, b.block - from));
                }
            });
            double total = 0;
            for (double p : partial) {
                total += p;
            }
            write(dst, 0, total);
            return out;
        }
        Parallel.forRange(b.outer, Math.max(1, Elementwise.GRAIN / Math.max(1, b.block)), (os, oe) -> {
            for (int o = os; o < oe; o++) {
                write(dst, o, sumRun(src, base + o * b.block, b.block));
            }
        });
        return out;
    }

    private static double sumRun(Storage s, int off, int n) {
        if (s.dtype() == DType.FLOAT32) {
            if (V != null) {
                return V.sum(s.floats(), off, n);
            }
            float[] a = s.floats();
            double t = 0;
            for (int i = 0; i < n; i++) t += a[off + i];
            return t;
        }
        double[] a = s.doubles();
        double t = 0;
        for (int i = 0; i < n; i++) t += a[off + i];
        return t;
    }

    private static boolean isLeadingPrefix(int[] dims) {
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] != i) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sum over the first {@code lead} dimensions of a contiguous tensor (a bias gradient: [N, C] to
     * [C]) by adding whole rows into an accumulator, which reads memory in order instead of
     * transposing it first. Columns are split between threads.
     */
    private static Tensor sumLeading(Tensor x, int lead) {
        int[] shape = x.shape();
        int[] kept = java.util.Arrays.copyOfRange(shape, lead, shape.length);
        int rows = 1;
        for (int d = 0; d < lead; d++) {
            rows *= shape[d];
        }
        int cols = Shapes.numel(kept);
        Tensor out = Tensor.empty(x.dtype(), kept);
        Storage src = x.storage();
        Storage dst = out.storage();
        int base = x.storageOffset();
        int nRows = rows;
        Parallel.forRange(cols, Math.max(64, Elementwise.GRAIN / Math.max(1, nRows)), (cs, ce) -> {
            if (src.dtype() == DType.FLOAT32) {
                float[] a = src.floats();
                float[] acc = dst.floats();
                for (int r = 0; r < nRows; r++) {
                    int off = base + r * cols;
                    if (V != null) {
                        V.addInto(a, off + cs, acc, cs, ce - cs);
                    } else {
                        for (int j = cs; j < ce; j++) acc[j] += a[off + j];
                    }
                }
            } else {
                double[] a = src.doubles();
                double[] acc = dst.doubles();
                for (int r = 0; r < nRows; r++) {
                    int off = base + r * cols;
                    for (int j = cs; j < ce; j++) acc[j] += a[off + j];
                }
            }
        });
        return out;
    }

    /** Maximum over {@code dims}; NaN wins, as in PyTorch. */
    public static Tensor amax(Tensor x, int[] dims) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.amax(x, dims);
        }
        Blocks b = Blocks.of(x, dims);
        if (b.block == 0) {
            throw new IllegalArgumentException("max: cannot reduce over an empty dimension of shape " + Shapes.str(x.shape()));
        }
        Tensor out = Tensor.empty(x.dtype(), b.keptShape);
        for (int o = 0; o < b.outer; o++) {
            int base = b.data.storageOffset() + o * b.block;
            int arg = argmaxRun(b.data.storage(), base, b.block);
            write(out.storage(), o, Elementwise.readDouble(b.data.storage(), base + arg));
        }
        return out;
    }

    /** Index of the maximum along one dimension (first one on ties; NaN wins), as an int64 tensor. */
    public static Tensor argmax(Tensor x, int dim) {
        if (DeviceCheck.anyOnDevice(x)) {
            return io.sparkgrad.backend.opencl.ClOps.argmax(x, dim);
        }
        Blocks b = Blocks.of(x, new int[] {dim});
        if (b.block == 0) {
            throw new IllegalArgumentException("argmax: cannot reduce over an empty dimension of shape " + Shapes.str(x.shape()));
        }
        Tensor out = Tensor.empty(DType.INT64, b.keptShape);
        long[] dst = out.storage().longs();
        for (int o = 0; o < b.outer; o++) {
            dst[o] = argmaxRun(b.data.storage(), b.data.storageOffset() + o * b.block, b.block);
        }
        return out;
    }

    private static int argmaxRun(Storage s, int base, int n) {
        int best = 0;
        if (s.dtype() == DType.FLOAT32) {
            float[] a = s.floats();
            float m = a[base];
            for (int i = 1; i < n && !Float.isNaN(m); i++) {
                float v = a[base + i];
                if (v > m || Float.isNaN(v)) {
                    m = v;
                    best = i;
                }
            }
        } else {
            double[] a = s.doubles();
            double m = a[base];
            for (int i = 1; i < n && !Double.isNaN(m); i++) {
                double v = a[base + i];
                if (v > m || Double.isNaN(v)) {
                    m = v;
                    best = i;
                }
            }
        }
        return best;
    }

    private static void write(Storage s, int i, double v) {
        if (s.dtype() == DType.FLOAT32) {
            s.floats()[i] = (float) v;
        } else {
            s.doubles()[i] = v;
        }
    }

    /** The input rearranged as {@code outer} contiguous blocks of {@code block} elements each. */
    private static final class Blocks {
        final Tensor data;
        final int[] keptShape;
        final int outer;
        final int block;

        private Blocks(Tensor data, int[] keptShape, int outer, int block) {
            this.data = data;
            this.keptShape = keptShape;
            this.outer = outer;
            this.block = block;
        }

        static Blocks of(Tensor x, int[] dims) {
            Elementwise.requireFloat(x, "reduction");
            int rank = x.dim();
            boolean[] reduced = new boolean[rank];
            for (int d : dims) {
                reduced[d] = true;
            }
            int[] perm = new int[rank];
            int[] kept = new int[rank - dims.length];
            int p = 0;
            int k = 0;
            int block = 1;
            for (int d = 0; d < rank; d++) {
                if (!reduced[d]) {
                    perm[p++] = d;
                    kept[k++] = x.size(d);
                }
            }
            for (int d = 0; d < rank; d++) {
                if (reduced[d]) {
                    perm[p++] = d;
                    block *= x.size(d);
                }
            }
            Tensor arranged = x.permuteView(perm);
            if (!arranged.isContiguous()) {
                arranged = Layout.contiguousCopy(arranged);
            }
            return new Blocks(arranged, kept, Shapes.numel(kept), block);
        }
    }
}
