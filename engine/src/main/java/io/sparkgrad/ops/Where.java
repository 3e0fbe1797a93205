package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = cond != 0 ? x : y} (all broadcast; {@code cond} carries no gradient).
 * <br>{@code x: where(cond, grad, 0)}, {@code y: where(cond, 0, grad)}.
 */
public final class Where extends Node {
    private SavedTensor condition;

    private Where() {
        super("WhereBackward0");
    }

    public static Tensor apply(Tensor cond, Tensor x, Tensor y) {
        DType t = Ops.common("where", x, y);
        Tensor out = Elementwise.where(cond, Ops.cast(x, t), Ops.cast(y, t));
        if (!Graph.needsGrad(x, y)) {
            return out;
        }
        Where node = new Where();
        node.condition = node.save(cond.detach());
        return Graph.record(node, out, x, y);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor c = condition.unpack();
        Tensor zero = Tensor.scalar(0, grad.dtype());
        return new Tensor[] {
            needsGrad(0) ? Tensor.where(c, grad, zero) : null,
            needsGrad(1) ? Tensor.where(c, zero, grad) : null};
    }
}
