package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = 1 / (1 + e⁻ˣ)}.
 * <br>{@code x: grad * result * (1 - result)}.
 */
public final class Sigmoid extends Node {
    private SavedTensor saved;

    private Sigmoid() {
        super("SigmoidBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("sigmoid", x);
        Tensor out = Elementwise.unary(UnaryKernel.SIGMOID, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Sigmoid node = new Sigmoid();
        Graph.record(node, out, x);
        node.saved = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = saved.unpack();
        return new Tensor[] {grad.mul(y.mul(y.rsub(1)))};
    }
}
