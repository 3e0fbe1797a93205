package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = max(x, 0)}.
 * <br>{@code x: grad * (result > 0)}.
 */
public final class Relu extends Node {
    private SavedTensor saved;

    private Relu() {
        super("ReluBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("relu", x);
        Tensor out = Elementwise.unary(UnaryKernel.RELU, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Relu node = new Relu();
        Graph.record(node, out, x);
        node.saved = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = saved.unpack();
        if (!io.sparkgrad.autograd.GradMode.isEnabled()) {
            // Not building a graph of the gradient: one fused pass, no mask tensor.
            return new Tensor[] {Elementwise.reluBackward(grad, y)};
        }
        return new Tensor[] {grad.mul(Ops.mask(BinaryKernel.GT, y, 0))};
    }
}
