package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Layout;

/**
 * A zero tensor of {@code shape} with {@code src} written into the slice {@code start:end:step} of
 * {@code dim}: the adjoint of {@link Slice}, used by its backward (and so differentiable for
 * second derivatives).
 * <br>{@code src: grad.slice(dim, start, end, step)}.
 */
public final class SliceScatter extends Node {
    private int dim;
    private int start;
    private int end;
    private int step;

    private SliceScatter() {
        super("SliceScatterBackward0");
    }

    public static Tensor apply(Tensor src, int[] shape, int dim, int start, int end, int step) {
        Tensor out = Tensor.zeros(src.dtype(), src.device(), shape);
        Layout.copyInto(src, out.detach().slice(dim, start, end, step));
        if (!Graph.needsGrad(src)) {
            return out;
        }
        SliceScatter node = new SliceScatter();
        node.dim = dim;
        node.start = start;
        node.end = end;
        node.step = step;
        return Graph.record(node, out, src);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.slice(dim, start, end, step)};
    }
}
