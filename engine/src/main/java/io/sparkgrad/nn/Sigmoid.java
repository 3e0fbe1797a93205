package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

/** The logistic function {@code 1 / (1 + e^-x)} ({@code torch.nn.Sigmoid}). */
public class Sigmoid extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input.sigmoid();
    }
}
