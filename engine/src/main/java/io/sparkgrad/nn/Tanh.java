package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

/** The hyperbolic tangent ({@code torch.nn.Tanh}). */
public class Tanh extends Module {
    @Override
    public Tensor forward(Tensor input) {
        return input.tanh();
    }
}
