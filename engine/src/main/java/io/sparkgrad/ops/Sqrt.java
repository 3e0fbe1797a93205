package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = √x}.
 * <br>{@code x: grad / (2 * result)}.
 */
public final class Sqrt extends Node {
    private SavedTensor saved;

    private Sqrt() {
        super("SqrtBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("sqrt", x);
        Tensor out = Elementwise.unary(UnaryKernel.SQRT, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Sqrt node = new Sqrt();
        Graph.record(node, out, x);
        node.saved = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = saved.unpack();
        return new Tensor[] {grad.div(y.mul(2))};
    }
}
