package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Reduce;

/**
 * {@code out = Σ x / n} over {@code dims} (all when empty), n the number of elements averaged.
 * <br>{@code x: grad / n} expanded back over the averaged dimensions.
 */
public final class Mean extends Node {
    private int[] inputShape;
    private int[] keptShape;
    private int count;

    private Mean(String name) {
        super(name);
    }

    public static Tensor apply(Tensor x, int[] dims, boolean keepDim) {
        Ops.requireFloat("mean", x);
        boolean all = dims.length == 0;
        int[] d = Ops.reductionDims(dims, x.dim());
        int[] kept = Ops.withKeptDims(x.shape(), d);
        int count = Math.max(1, x.numel()) / Math.max(1, Shapes.numel(kept));
        if (x.numel() == 0) {
            count = 0;
        }
        Tensor out = Reduce.sum(x, d);
        out = io.sparkgrad.backend.Elementwise.binary(io.sparkgrad.backend.BinaryKernel.DIV, out,
                Tensor.scalar(count, x.dtype()), "mean");
        if (keepDim) {
            out = out.reshape(kept);
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Mean node = new Mean(all && !keepDim ? "MeanBackward0" : "MeanBackward1");
        node.inputShape = x.shape();
        node.keptShape = kept;
        node.count = count;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.div(count).reshape(keptShape).expand(inputShape)};
    }
}
