package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = -x}.
 * <br>{@code x: -grad}.
 */
public final class Neg extends Node {
    private Neg() {
        super("NegBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("neg", x);
        Tensor out = Elementwise.unary(UnaryKernel.NEG, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Neg node = new Neg();
        Graph.record(node, out, x);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.neg()};
    }
}
