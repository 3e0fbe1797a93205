package io.sparkgrad.data;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Examples held in memory as tensors whose first dimension is the example index, e.g. images
 * {@code [60000, 28, 28]} and labels {@code [60000]}: PyTorch's {@code TensorDataset}. Row
 * {@code i} of every tensor together is example {@code i}. It exists so a {@link DataLoader} can
 * gather shuffled rows into batches with one array copy per row and tensor, without building a
 * graph or a tensor per example.
 */
public final class TensorDataset {
    private final List<Tensor> tensors;
    /** Row-major copies (or the tensors themselves when already contiguous) the rows are copied from. */
    private final Tensor[] rowMajor;
    private final int[] rowLengths;
    private final int size;

    /**
     * @param tensors one or more tensors of rank at least 1 with the same first dimension
     * @throws IllegalArgumentException naming the tensor whose first dimension differs
     */
    public TensorDataset(Tensor... tensors) {
        Objects.requireNonNull(tensors, "tensors");
        if (tensors.length == 0) {
            throw new IllegalArgumentException("TensorDataset needs at least one tensor");
        }
        this.tensors = List.of(tensors);
        this.rowMajor = new Tensor[tensors.length];
        this.rowLengths = new int[tensors.length];
        for (int i = 0; i < tensors.length; i++) {
            Tensor t = tensors[i];
            if (t.dim() == 0) {
                throw new IllegalArgumentException("TensorDataset: tensor " + i + " is 0-dimensional; every tensor needs"
                        + " a first dimension that indexes the examples");
            }
            if (t.size(0) != tensors[0].size(0)) {
                throw new IllegalArgumentException("TensorDataset: tensor " + i + " has " + t.size(0) + " rows (shape "
                        + Shapes.str(t.shape()) + ") but tensor 0 has " + tensors[0].size(0) + " (shape "
                        + Shapes.str(tensors[0].shape()) + "); every tensor needs one row per example");
            }
            rowMajor[i] = t.contiguousData();
            rowLengths[i] = t.size(0) == 0 ? 0 : t.numel() / t.size(0);
        }
        this.size = tensors[0].size(0);
    }

    /** The number of examples. */
    public int size() {
        return size;
    }

    /** How many tensors each example has (e.g. 2 for features and labels). */
    public int tensorCount() {
        return tensors.size();
    }

    /** The {@code i}-th tensor as given to the constructor. */
    public Tensor tensor(int i) {
        return tensors.get(i);
    }

    /**
     * The examples at {@code indices}, in that order, as new tensors (one per dataset tensor) of
     * shape {@code [indices.length, ...]}.
     */
    public List<Tensor> rows(int... indices) {
        for (int i : indices) {
            if (i < 0 || i >= size) {
                throw new IndexOutOfBoundsException("row " + i + " is out of range for a dataset of " + size + " rows");
            }
        }
        Tensor[] out = newBatch(indices.length);
        copyRows(indices, 0, indices.length, out);
        return List.of(out);
    }

    /** Empty tensors shaped for a batch of {@code rows} examples, one per dataset tensor. */
    Tensor[] newBatch(int rows) {
        Tensor[] out = new Tensor[tensors.size()];
        for (int k = 0; k < out.length; k++) {
            int[] shape = rowMajor[k].shape();
            shape[0] = rows;
            out[k] = Tensor.empty(rowMajor[k].dtype(), shape);
        }
        return out;
    }

    /**
     * Copies rows {@code order[from .. from+count)} into the first {@code count} rows of each
     * contiguous tensor in {@code into} (made by {@link #newBatch}). Indices are trusted.
     */
    void copyRows(int[] order, int from, int count, Tensor[] into) {
        for (int k = 0; k < rowMajor.length; k++) {
            Object src = array(rowMajor[k]);
            int srcBase = rowMajor[k].storageOffset();
            Object dst = array(into[k]);
            int dstBase = into[k].storageOffset();
            int len = rowLengths[k];
            for (int j = 0; j < count; j++) {
                System.arraycopy(src, srcBase + order[from + j] * len, dst, dstBase + j * len, len);
            }
        }
    }

    private static Object array(Tensor t) {
        switch (t.dtype()) {
            case FLOAT32: return t.storage().floats();
            case FLOAT64: return t.storage().doubles();
            case INT64: return t.storage().longs();
            default: throw new IllegalStateException("TensorDataset cannot hold " + t.dtype());
        }
    }

    @Override
    public String toString() {
        List<String> shapes = new ArrayList<>();
        for (Tensor t : tensors) {
            shapes.add(t.dtype() + Shapes.str(t.shape()));
        }
        return "TensorDataset(" + size + " examples: " + String.join(", ", shapes) + ")";
    }
}
