package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Indexing;

/**
 * {@code out[i][j] = x[i][index[i][j]]} for {@code dim = 1} (likewise for any dim); the index is an
 * int64 tensor of the same rank.
 * <br>{@code x: zeros(x.shape).scatterAdd(dim, index, grad)}.
 */
public final class Gather extends Node {
    private SavedTensor index;
    private int[] inputShape;
    private int dim;

    private Gather(String name) {
        super(name);
    }

    public static Tensor apply(Tensor x, int dim, Tensor index) {
        return applyNamed(x, dim, index, "GatherBackward0");
    }

    static Tensor applyNamed(Tensor x, int dim, Tensor index, String name) {
        Ops.requireFloat("gather", x);
        int d = Shapes.wrapDim(dim, x.dim());
        Tensor out = Indexing.gather(x, d, index);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Gather node = new Gather(name);
        node.index = node.save(index);
        node.inputShape = x.shape();
        node.dim = d;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {ScatterAdd.apply(inputShape, dim, index.unpack(), grad)};
    }
}
