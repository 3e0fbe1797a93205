package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Indexing;

/**
 * A zero tensor of {@code shape} plus {@code src} added at the positions an int64 {@code index}
 * names along {@code dim}: the adjoint of {@link Gather}, used by the backward of gather,
 * indexSelect, max along a dimension and the NLL loss.
 * <br>{@code src: grad.gather(dim, index)}.
 */
public final class ScatterAdd extends Node {
    private SavedTensor index;
    private int dim;

    private ScatterAdd() {
        super("ScatterAddBackward0");
    }

    public static Tensor apply(int[] shape, int dim, Tensor index, Tensor src) {
        Tensor out = Indexing.scatterAddIntoZeros(shape, dim, index, src);
        if (!Graph.needsGrad(src)) {
            return out;
        }
        ScatterAdd node = new ScatterAdd();
        node.index = node.save(index);
        node.dim = dim;
        return Graph.record(node, out, src);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.gather(dim, index.unpack())};
    }
}
