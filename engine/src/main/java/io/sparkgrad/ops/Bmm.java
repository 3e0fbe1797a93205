package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Gemm;

/**
 * {@code out[i] = a[i] · b[i]} for batches {@code [B,m,k]·[B,k,n]}.
 * <br>{@code a: grad · bᵀ}, {@code b: aᵀ · grad} (transposing the last two dimensions).
 */
public final class Bmm extends Node {
    private SavedTensor a;
    private SavedTensor b;

    private Bmm() {
        super("BmmBackward0");
    }

    /** Operands already checked, broadcast and promoted by {@link Matmul}. */
    static Tensor apply(Tensor a, Tensor b) {
        Tensor out = Gemm.bmm(a, b);
        if (!Graph.needsGrad(a, b)) {
            return out;
        }
        Bmm node = new Bmm();
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
            needsGrad(0) ? Matmul.bmm(grad, b.unpack().transpose(1, 2)) : null,
            needsGrad(1) ? Matmul.bmm(a.unpack().transpose(1, 2), grad) : null};
    }
}
