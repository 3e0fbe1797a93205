package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Gemm;

/**
 * {@code out = bias + a · b} for {@code a [m,k]}, {@code b [k,n]} and a bias broadcast over rows
 * ({@code [n]} or {@code [m,n]}): a linear layer in one matrix call, the bias written into the
 * output first and the product accumulated onto it (BLAS's beta = 1), instead of a product and a
 * second pass to add the bias. Tested against {@code a.matmul(b).add(bias)}.
 * <br>{@code bias: grad} (summed over rows), {@code a: grad · bᵀ}, {@code b: aᵀ · grad}.
 */
public final class Addmm extends Node {
    private SavedTensor a;
    private SavedTensor b;
    private boolean aColumnMajor;
    private boolean bColumnMajor;

    private Addmm() {
        super("AddmmBackward0");
    }

    public static Tensor apply(Tensor bias, Tensor a, Tensor b) {
        if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0)) {
            throw new IllegalArgumentException("addmm: cannot multiply " + Shapes.str(a.shape()) + " by "
                    + Shapes.str(b.shape()) + " (expected [m, k] and [k, n])");
        }
        int[] outShape = {a.size(0), b.size(1)};
        if (!Shapes.expandable(bias.shape(), outShape)) {
            throw new IllegalArgumentException("addmm: bias of shape " + Shapes.str(bias.shape())
                    + " cannot be broadcast to the product's shape " + Shapes.str(outShape));
        }
        if (a.dtype() != b.dtype() || bias.dtype() != a.dtype()) {
            throw new IllegalArgumentException("addmm: expected one dtype, got bias " + bias.dtype() + ", "
                    + a.dtype() + " and " + b.dtype());
        }
        Tensor out = Gemm.addmm(bias, a, b);
        if (!Graph.needsGrad(bias, a, b)) {
            return out;
        }
        Addmm node = new Addmm();
        node.aColumnMajor = Ops.columnMajor(a);
        node.bColumnMajor = Ops.columnMajor(b);
        if (b.requiresGrad()) {
            node.a = node.save(a);
        }
        if (a.requiresGrad()) {
            node.b = node.save(b);
        }
        return Graph.record(node, out, bias, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        // Each gradient is computed in its input's layout (see Ops.columnMajor): (B·Gᵀ)ᵀ = G·Bᵀ.
        return new Tensor[] {
            needsGrad(0) ? grad : null,
            !needsGrad(1) ? null : aColumnMajor ? b.unpack().mm(grad.t()).t() : grad.mm(b.unpack().t()),
            !needsGrad(2) ? null : bColumnMajor ? grad.t().mm(a.unpack()).t() : a.unpack().t().mm(grad)};
    }
}
