package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.functional.Reduction;

/**
 * Mean squared error {@code (x - y)²} (broadcast), reduced by mean, sum or none.
 * <br>{@code x: 2 (x - y) * grad}, {@code y: -2 (x - y) * grad} (divided by n for the mean).
 */
public final class MseLoss extends Node {
    private SavedTensor input;
    private SavedTensor target;
    private Reduction reduction;
    private int count;

    private MseLoss() {
        super("MseLossBackward0");
    }

    public static Tensor apply(Tensor x, Tensor y, Reduction reduction) {
        Ops.requireFloat("mseLoss", x);
        Ops.requireFloat("mseLoss", y);
        int[] shape = Shapes.broadcast("mseLoss", x.shape(), y.shape());
        Tensor out;
        try (var g = GradMode.noGrad()) {
            Tensor diff = x.detach().sub(y.detach());
            out = BinaryCrossEntropyWithLogits.reduce(diff.mul(diff), reduction);
        }
        if (!Graph.needsGrad(x, y)) {
            return out;
        }
        MseLoss node = new MseLoss();
        node.input = node.save(x);
        node.target = node.save(y);
        node.reduction = reduction;
        node.count = Shapes.numel(shape);
        return Graph.record(node, out, x, y);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor g = reduction == Reduction.MEAN ? grad.div(count) : grad;
        Tensor d = input.unpack().sub(target.unpack()).mul(g.mul(2));
        return new Tensor[] {needsGrad(0) ? d : null, needsGrad(1) ? d.neg() : null};
    }
}
