package io.sparkgrad.backend;

/**
 * How several strided operands of one shape are walked together: dimensions of size 1 are
 * dropped and neighbouring dimensions that are laid out back to back in every operand are merged,
 * so the innermost loop is as long as possible. A "row" is one run of the innermost dimension;
 * rows can be visited in any order, which is what lets a kernel split work between threads.
 */
final class StridedPlan {
    final int[] dims;
    final int[][] strides;
    final int inner;
    final int rows;

    private StridedPlan(int[] dims, int[][] strides) {
        this.dims = dims;
        this.strides = strides;
        this.inner = dims.length == 0 ? 1 : dims[dims.length - 1];
        int r = 1;
        for (int i = 0; i < dims.length - 1; i++) {
            r *= dims[i];
        }
        this.rows = r;
    }

    static StridedPlan of(int[] shape, int[]... operandStrides) {
        int ops = operandStrides.length;
        int[] dims = new int[shape.length];
        int[][] st = new int[ops][shape.length];
        int n = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (n > 0 && mergeable(dims[n - 1], st, n - 1, shape[d], operandStrides, d)) {
                dims[n - 1] *= shape[d];
                for (int k = 0; k < ops; k++) {
                    st[k][n - 1] = operandStrides[k][d];
                }
                continue;
            }
            dims[n] = shape[d];
            for (int k = 0; k < ops; k++) {
                st[k][n] = operandStrides[k][d];
            }
            n++;
        }
        int[] outDims = java.util.Arrays.copyOf(dims, n);
        int[][] outStrides = new int[ops][];
        for (int k = 0; k < ops; k++) {
            outStrides[k] = java.util.Arrays.copyOf(st[k], n);
        }
        return new StridedPlan(outDims, outStrides);
    }

    /** The outer dimension folds into the inner one when, for every operand, it steps over exactly one inner run. */
    private static boolean mergeable(int outerSize, int[][] st, int outer, int innerSize, int[][] src, int d) {
        for (int k = 0; k < st.length; k++) {
            if (st[k][outer] != src[k][d] * innerSize) {
                return false;
            }
        }
        return outerSize > 0;
    }

    /** The innermost stride of operand {@code k}. */
    int innerStride(int k) {
        return dims.length == 0 ? 1 : strides[k][dims.length - 1];
    }

    /** Start offset of row {@code row} for operand {@code k}, relative to its base offset. */
    int rowOffset(int k, int row) {
        int off = 0;
        int[] s = strides[k];
        for (int d = dims.length - 2; d >= 0; d--) {
            int size = dims[d];
            off += (row % size) * s[d];
            row /= size;
        }
        return off;
    }
}
