package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

/** The rectifier {@code max(x, 0)} ({@code torch.nn.ReLU}). */
public class ReLU extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input.relu();
    }
}
