package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = a / b} (broadcast).
 * <br>{@code a: grad / b}, {@code b: -grad * a / b²}.
 */
public final class Div extends Node {
    private SavedTensor a;
    private SavedTensor b;

    private Div() {
        super("DivBackward0");
    }

    public static Tensor apply(Tensor a, Tensor b) {
        DType t = Ops.common("div", a, b);
        Tensor out = Elementwise.binary(BinaryKernel.DIV, Ops.cast(a, t), Ops.cast(b, t), "div");
        if (!Graph.needsGrad(a, b)) {
            return out;
        }
        Div node = new Div();
        if (b.requiresGrad()) {
            node.a = node.save(a);
        }
        node.b = node.save(b);
        return Graph.record(node, out, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor bv = b.unpack();
        return new Tensor[] {
            needsGrad(0) ? grad.div(bv) : null,
            needsGrad(1) ? grad.neg().mul(a.unpack()).div(bv.mul(bv)) : null};
    }
}
