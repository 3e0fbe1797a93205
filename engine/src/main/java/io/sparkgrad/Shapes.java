package io.sparkgrad;

import java.util.Arrays;

/** Shape arithmetic: element counts, strides, broadcasting and dimension wrapping. */
public final class Shapes {
    private Shapes() {
    }

    public static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + str(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + str(shape) + " has more than 2^31-1 elements");
            }
        }
        return (int) n;
    }

    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** NumPy broadcasting: align right, each pair of sizes equal or one of them 1. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int da = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
            int db = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + str(a) + " and " + str(b)
                        + " cannot be broadcast together (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** True when {@code from} can be expanded to {@code to} by broadcasting. */
    public static boolean expandable(int[] from, int[] to) {
        if (from.length > to.length) {
            return false;
        }
        int lead = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            if (from[i] != 1 && from[i] != to[lead + i]) {
                return false;
            }
        }
        return true;
    }

    /** Wraps a possibly negative dimension index, as PyTorch does ({@code -1} is the last). */
    public static int wrapDim(int dim, int rank) {
        int r = Math.max(rank, 1);
        if (dim < -r || dim >= r) {
            throw new IndexOutOfBoundsException("dimension " + dim + " is out of range for a tensor of rank "
                    + rank + " (expected in [" + -r + ", " + (r - 1) + "])");
        }
        return dim < 0 ? dim + r : dim;
    }

    /** Wraps and sorts a list of dimensions, rejecting repeats. Empty means all dimensions. */
    public static int[] wrapDims(int[] dims, int rank) {
        if (dims.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] w = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            w[i] = wrapDim(dims[i], rank);
        }
        Arrays.sort(w);
        for (int i = 1; i < w.length; i++) {
            if (w[i] == w[i - 1]) {
                throw new IllegalArgumentException("dimension " + w[i] + " appears more than once in " + Arrays.toString(dims));
            }
        }
        return w;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
