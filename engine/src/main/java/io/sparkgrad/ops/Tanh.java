package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = tanh x}.
 * <br>{@code x: grad * (1 - result²)}.
 */
public final class Tanh extends Node {
    private SavedTensor saved;

    private Tanh() {
        super("TanhBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("tanh", x);
        Tensor out = Elementwise.unary(UnaryKernel.TANH, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Tanh node = new Tanh();
        Graph.record(node, out, x);
        node.saved = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = saved.unpack();
        return new Tensor[] {grad.mul(y.mul(y).rsub(1))};
    }
}
