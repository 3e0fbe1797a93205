package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = a - b} (broadcast).
 * <br>{@code a: grad}, {@code b: -grad}.
 */
public final class Sub extends Node {
    private Sub(String name) {
        super(name);
    }

    public static Tensor apply(Tensor a, Tensor b) {
        DType t = Ops.common("sub", a, b);
        Tensor out = Elementwise.binary(BinaryKernel.SUB, Ops.cast(a, t), Ops.cast(b, t), "sub");
        // PyTorch names scalar-minus-tensor RsubBackward1.
        String name = a.dim() == 0 && !a.requiresGrad() && b.dim() > 0 ? "RsubBackward1" : "SubBackward0";
        return Graph.needsGrad(a, b) ? Graph.record(new Sub(name), out, a, b) : out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad, needsGrad(1) ? grad.neg() : null};
    }
}
