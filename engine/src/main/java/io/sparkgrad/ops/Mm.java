package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Gemm;

/**
 * {@code out = a · b} for matrices {@code [m,k]·[k,n]}.
 * <br>{@code a: grad · bᵀ}, {@code b: aᵀ · grad}.
 */
public final class Mm extends Node {
    private SavedTensor a;
    private SavedTensor b;
    private boolean aColumnMajor;
    private boolean bColumnMajor;

    private Mm() {
        super("MmBackward0");
    }

    /** Operands already checked and promoted by {@link Matmul}. */
    static Tensor apply(Tensor a, Tensor b) {
        Tensor out = Gemm.mm(a, b);
        if (!Graph.needsGrad(a, b)) {
            return out;
        }
        Mm node = new Mm();
        node.aColumnMajor = Ops.columnMajor(a);
        node.bColumnMajor = Ops.columnMajor(b);
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
        // Each gradient is computed in its input's layout (see Ops.columnMajor): (B·Gᵀ)ᵀ = G·Bᵀ.
        return new Tensor[] {
            !needsGrad(0) ? null : aColumnMajor ? b.unpack().mm(grad.t()).t() : grad.mm(b.unpack().t()),
            !needsGrad(1) ? null : bColumnMajor ? grad.t().mm(a.unpack()).t() : a.unpack().t().mm(grad)};
    }
}
