package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.SoftmaxKernel;

/**
 * {@code out = x - log Σ eˣ} along {@code dim}, computed stably; a fused primitive.
 * <br>{@code x: grad - e^result * Σ grad} with the sum along {@code dim}.
 */
public final class LogSoftmax extends Node {
    private SavedTensor result;
    private int dim;

    private LogSoftmax() {
        super("LogSoftmaxBackward0");
    }

    public static Tensor apply(Tensor x, int dim) {
        Ops.requireFloat("logSoftmax", x);
        int d = Shapes.wrapDim(dim, x.dim());
        Tensor out = SoftmaxKernel.softmax(x, d, true);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        LogSoftmax node = new LogSoftmax();
        node.dim = d;
        Graph.record(node, out, x);
        node.result = node.save(out);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor y = result.unpack();
        return new Tensor[] {grad.sub(y.exp().mul(grad.sum(new int[] {dim}, true)))};
    }
}
