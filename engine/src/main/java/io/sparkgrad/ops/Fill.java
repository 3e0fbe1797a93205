package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A tensor of {@code x}'s shape filled with a constant: what {@code fill_}/{@code zero_} record
 * when they overwrite a tensor inside the graph, so the overwritten history gets no gradient.
 * <br>{@code x: 0}.
 */
public final class Fill extends Node {
    private Fill() {
        super("FillBackward0");
    }

    public static Tensor apply(Tensor x, double value) {
        Tensor out = Tensor.fullLike(x, value);
        return Graph.needsGrad(x) ? Graph.record(new Fill(), out, x) : out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {Tensor.zerosLike(grad)};
    }
}
