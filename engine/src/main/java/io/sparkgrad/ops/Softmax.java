package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.SoftmaxKernel;

/**
 * {@code out = eˣ / Σ eˣ} along {@code dim}; a fused primitive (the composed twin is tested against it).
 * <br>{@code x: result * (grad - Σ(grad * result))} with the sum along {@code dim}.
 */
public final class Softmax extends Node {
    private SavedTensor result;
    private int dim;

    private Softmax() {
        super("SoftmaxBackward0");
    }

    public static Tensor apply(Tensor x, int dim) {
        Ops.requireFloat("softmax", x);
        int d = Shapes.wrapDim(dim, x.dim());
        Tensor out = SoftmaxKernel.softmax(x, d, false);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Softmax node = new Softmax();
        node.dim = d;
        Graph.record(node, out, x);
        node.result = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = result.unpack();
        Tensor gy = grad.mul(y);
        return new Tensor[] {gy.sub(y.mul(gy.sum(new int[] {dim}, true)))};
    }
}
