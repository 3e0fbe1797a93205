package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = eˣ}.
 * <br>{@code x: grad * result}.
 */
public final class Exp extends Node {
    private SavedTensor saved;

    private Exp() {
        super("ExpBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("exp", x);
        Tensor out = Elementwise.unary(UnaryKernel.EXP, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Exp node = new Exp();
        Graph.record(node, out, x);
        node.saved = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = saved.unpack();
        return new Tensor[] {grad.mul(y)};
    }
}
