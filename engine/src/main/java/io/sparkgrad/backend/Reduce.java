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

    /** Sum over {@code dims} (sorted, wrapped); the result has the kept dimensions only. */
    public static Tensor sum(Tensor x, int[] dims) {
        Blocks b = Blocks.of(x, dims);
        Tensor out = Tensor.empty(x.dtype(), b.keptShape);
        if (x.dtype() == DType.FLOAT32) {
            float[] src = b.data.storage().floats();
            float[] dst = out.storage().floats();
            for (int o = 0; o < b.outer; o++) {
                double s = 0;
                int base = b.data.storageOffset() + o * b.block;
                for (int i = 0; i < b.block; i++) s += src[base + i];
                dst[o] = (float) s;
            }
        } else {
            double[] src = b.data.storage().doubles();
            double[] dst = out.storage().doubles();
            for (int o = 0; o < b.outer; o++) {
                double s = 0;
                int base = b.data.storageOffset() + o * b.block;
                for (int i = 0; i < b.block; i++) s += src[base + i];
                dst[o] = s;
            }
        }
        return out;
    }

    /** Maximum over {@code dims}; NaN wins, as in PyTorch. */
    public static Tensor amax(Tensor x, int[] dims) {
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
