package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Layout;

/**
 * A contiguous copy with its own storage.
 * <br>{@code x: grad}.
 */
public final class Clone extends Node {
    private Clone() {
        super("CloneBackward0");
    }

    public static Tensor apply(Tensor x) {
        Tensor out = Layout.contiguousCopy(x);
        return Graph.needsGrad(x) ? Graph.record(new Clone(), out, x) : out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad};
    }
}
