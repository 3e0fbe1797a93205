package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.UnaryKernel;

/**
 * {@code out = ln x}.
 * <br>{@code x: grad / x}.
 */
public final class Log extends Node {
    private SavedTensor saved;

    private Log() {
        super("LogBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("log", x);
        Tensor out = Elementwise.unary(UnaryKernel.LOG, x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Log node = new Log();
        Graph.record(node, out, x);
        node.saved = node.save(x);
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = saved.unpack();
        return new Tensor[] {grad.div(x)};
    }
}
