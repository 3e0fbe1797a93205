package io.sparkgrad.autograd;

import io.sparkgrad.Tensor;

/**
 * The sink at a leaf that requires grad: {@code backward()} adds the arriving gradient into the
 * leaf's {@code .grad}. Gradients accumulate until zeroed (the tutorial's {@code eye(5)} example);
 * after the first pass the buffer is reused and added to in place, so a training loop that zeroes
 * gradients allocates no new gradient buffers.
 */
public final class AccumulateGrad extends Node {
    private final Tensor leaf;

    public AccumulateGrad(Tensor leaf) {
        super("AccumulateGrad");
        this.leaf = leaf;
    }

    public Tensor variable() {
        return leaf;
    }

    @Override
    protected Tensor[] backward(Tensor gradOutput) {
        throw new IllegalStateException("AccumulateGrad is applied by the engine, not called");
    }

    /** Adds {@code grad} into the leaf's {@code .grad}; with {@code createGraph} the sum stays differentiable. */
    void accumulate(Tensor grad, boolean createGraph) {
        synchronized (leaf) {
            Tensor current = leaf.grad();
            if (createGraph) {
                leaf.setGrad(current == null ? grad : current.add(grad));
            } else if (current == null) {
                leaf.setGrad(grad.detach().clone());
            } else if (current.requiresGrad()) {
                // A gradient that carries a graph (from createGraph) is replaced, never written in place.
                leaf.setGrad(current.detach().add(grad.detach()));
            } else {
                try (var g = GradMode.noGrad()) {
                    current.add_(grad);
                }
            }
        }
    }
}
