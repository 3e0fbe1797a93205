package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = |x|}.
 * <br>{@code x: grad * sign(x)}.
 */
public final class Abs extends Node {
    private SavedTensor saved;

    private Abs() {
        super("AbsBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("abs", x);
        Tensor out = Elementwise.unary(UnaryKernel.ABS, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Abs node = new Abs();
        Graph.record(node, out, x);
        node.saved = node.save(x);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = saved.unpack();
        return new Tensor[] {grad.mul(Elementwise.unary(UnaryKernel.SIGN, x.detach()))};
    }
}
