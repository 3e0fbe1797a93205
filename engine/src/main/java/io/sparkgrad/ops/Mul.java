package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = a * b} (broadcast).
 * <br>{@code a: grad * b}, {@code b: grad * a}.
 */
public final class Mul extends Node {
    private SavedTensor a;
    private SavedTensor b;

    private Mul() {
        super("MulBackward0");
    }

    public static Tensor apply(Tensor a, Tensor b) {
        DType t = Ops.common("mul", a, b);
        Tensor out = Elementwise.binary(BinaryKernel.MUL, Ops.cast(a, t), Ops.cast(b, t), "mul");
        if (!Graph.needsGrad(a, b)) {
            return out;
        }
        Mul node = new Mul();
        if (b.requiresGrad()) {
            node.a = node.save(a);
        }
        if (a.requiresGrad()) {
            node.b = node.save(b);
        }
        return Graph.record(node, out, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {
            needsGrad(0) ? grad.mul(b.unpack()) : null,
            needsGrad(1) ? grad.mul(a.unpack()) : null};
    }
}
