package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

/**
 * A tensor that a {@link Module} learns ({@code torch.nn.Parameter}): a leaf that requires grad
 * by default and shares its storage with the tensor it was made from. Being a {@link Tensor}, it
 * goes straight into any operation.
 */
public class Parameter extends Tensor {
    /** A parameter over {@code data}'s storage (not a copy), requiring grad. */
    public Parameter(Tensor data) {
        this(data, true);
    }

    public Parameter(Tensor data, boolean requiresGrad) {
        super(data);
        if (!requiresGrad) {
            requiresGrad_(false);
        }
    }

    /** As PyTorch prints a parameter: {@code Parameter containing:} and the tensor. */
    @Override
    public String toString() {
        return "Parameter containing:\n" + super.toString();
    }
}
