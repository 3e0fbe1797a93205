package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Gemm;

/**
 * {@code out = m · v} for a matrix {@code [r,c]} and a vector {@code [c]}.
 * <br>{@code m: grad ⊗ v} (outer product), {@code v: mᵀ · grad}.
 */
public final class Mv extends Node {
    private SavedTensor m;
    private SavedTensor v;

    private Mv() {
        super("MvBackward0");
    }

    static Tensor apply(Tensor m, Tensor v) {
        Tensor out = Gemm.mm(m, v.detach().unsqueeze(1)).reshape(m.size(0));
        if (!Graph.needsGrad(m, v)) {
            return out;
        }
        Mv node = new Mv();
        if (v.requiresGrad()) {
            node.m = node.save(m);
        }
        if (m.requiresGrad()) {
            node.v = node.save(v);
        }
        return Graph.record(node, out, m, v);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {
            needsGrad(0) ? grad.unsqueeze(1).mm(v.unpack().unsqueeze(0)) : null,
            needsGrad(1) ? Matmul.apply(m.unpack().t(), grad) : null};
    }
}
