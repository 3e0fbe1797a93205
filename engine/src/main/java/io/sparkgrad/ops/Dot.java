package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Gemm;

/**
 * {@code out = Σ a[i]·b[i]} for two vectors of one length.
 * <br>{@code a: grad * b}, {@code b: grad * a}.
 */
public final class Dot extends Node {
    private SavedTensor a;
    private SavedTensor b;

    private Dot() {
        super("DotBackward0");
    }

    static Tensor apply(Tensor a, Tensor b) {
        Tensor out = Gemm.mm(a.detach().unsqueeze(0), b.detach().unsqueeze(1)).reshape();
        if (!Graph.needsGrad(a, b)) {
            return out;
        }
        Dot node = new Dot();
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
