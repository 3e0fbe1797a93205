package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Reduce;

/**
 * {@code out = Σ x} over {@code dims} (all when empty), keeping them as size 1 if {@code keepDim}.
 * <br>{@code x: grad} expanded back over the summed dimensions.
 */
public final class Sum extends Node {
    private int[] inputShape;
    private int[] keptShape;

    private Sum(String name) {
        super(name);
    }

    public static Tensor apply(Tensor x, int[] dims, boolean keepDim) {
        Ops.requireFloat("sum", x);
        boolean all = dims.length == 0;
        int[] d = Ops.reductionDims(dims, x.dim());
        int[] kept = Ops.withKeptDims(x.shape(), d);
        Tensor out = Reduce.sum(x, d);
        if (keepDim) {
            out = out.reshape(kept);
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Sum node = new Sum(all && !keepDim ? "SumBackward0" : "SumBackward1");
        node.inputShape = x.shape();
        node.keptShape = kept;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.reshape(keptShape).expand(inputShape)};
    }
}
