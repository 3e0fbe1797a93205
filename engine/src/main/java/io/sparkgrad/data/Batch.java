package io.sparkgrad.data;

import io.sparkgrad.Tensor;

import java.util.List;

/**
 * One mini-batch from a {@link DataLoader}: a tensor per dataset tensor, each with the batch's
 * examples as its first dimension, plus where it came from (epoch, position, dataset rows), so a
 * training loop can log progress and a test can check exactly which examples it saw.
 */
public final class Batch {
    private final int epoch;
    private final int index;
    private final int[] rows;
    private final List<Tensor> tensors;

    Batch(int epoch, int index, int[] rows, List<Tensor> tensors) {
        this.epoch = epoch;
        this.index = index;
        this.rows = rows;
        this.tensors = tensors;
    }

    /** The epoch this batch belongs to. */
    public int epoch() {
        return epoch;
    }

    /** Its position in the epoch, from 0. */
    public int index() {
        return index;
    }

    /** The number of examples in it; smaller than the batch size only for the last batch. */
    public int size() {
        return rows.length;
    }

    /** The dataset rows it holds, in batch order. */
    public int[] rows() {
        return rows.clone();
    }

    /** Its tensors, in the dataset's order. */
    public List<Tensor> tensors() {
        return tensors;
    }

    /** The {@code i}-th tensor: {@code get(0)} the features, {@code get(1)} the labels, typically. */
    public Tensor get(int i) {
        return tensors.get(i);
    }

    @Override
    public String toString() {
        return "Batch(epoch " + epoch + ", index " + index + ", " + rows.length + " examples)";
    }
}
