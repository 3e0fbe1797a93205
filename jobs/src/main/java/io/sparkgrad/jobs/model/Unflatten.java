package io.sparkgrad.jobs.model;

import io.sparkgrad.Tensor;
import io.sparkgrad.nn.Module;

import java.util.Arrays;

/**
 * Reshapes a batch of flat feature vectors {@code [B, C·H·W]} into {@code [B, C, H, W]}
 * (PyTorch's {@code nn.Unflatten(1, (C, H, W))}), so a conv net takes the flat features column
 * that DataFrames hold.
 */
public final class Unflatten extends Module {
    private final int[] shape;

    /** @param shape the shape of one example, e.g. {@code {1, 28, 28}} */
    public Unflatten(int... shape) {
        this.shape = shape.clone();
    }

    @Override
    public Tensor forward(Tensor input) {
        int[] s = new int[shape.length + 1];
        s[0] = input.size(0);
        System.arraycopy(shape, 0, s, 1, shape.length);
        return input.reshape(s);
    }

    @Override
    protected String extraRepr() {
        return "dim=1, unflattened_size=" + Arrays.toString(shape);
    }
}
