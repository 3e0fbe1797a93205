package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

/** {@code eˣ / Σ eˣ} along {@code dim} ({@code torch.nn.Softmax}). */
public class Softmax extends Module {
    private final int dim;

    public Softmax(int dim) {
        this.dim = dim;
    }

    @Override
    public Tensor forward(Tensor input) {
        return input.softmax(dim);
    }

    @Override
    protected String extraRepr() {
        return "dim=" + dim;
    }
}
