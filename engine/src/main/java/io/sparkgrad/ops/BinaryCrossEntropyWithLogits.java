package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.functional.Reduction;

import java.util.Arrays;

/**
 * Binary cross-entropy on logits, fused so it never takes the log of a sigmoid:
 * {@code l = max(x,0) - x·y + log(1 + e^-|x|)}, reduced by mean, sum or none.
 * <br>{@code x: (sigmoid(x) - y) * grad}, {@code y: -x * grad} (divided by n for the mean).
 */
public final class BinaryCrossEntropyWithLogits extends Node {
    private SavedTensor input;
    private SavedTensor target;
    private Reduction reduction;

    private BinaryCrossEntropyWithLogits() {
        super("BinaryCrossEntropyWithLogitsBackward0");
    }

    public static Tensor apply(Tensor x, Tensor y, Reduction reduction) {
        Ops.requireFloat("binaryCrossEntropyWithLogits", x);
        Ops.requireFloat("binaryCrossEntropyWithLogits", y);
        if (!Arrays.equals(x.shape(), y.shape())) {
            throw new IllegalArgumentException("binaryCrossEntropyWithLogits: target size " + Shapes.str(y.shape())
                    + " must be the same as input size " + Shapes.str(x.shape()));
        }
        Tensor out;
        try (var g = GradMode.noGrad()) {
            Tensor xd = x.detach();
            Tensor yd = y.detach().to(x.dtype());
            Tensor per = xd.clampMin(0).sub(xd.mul(yd)).add(LogOnePlusExp.ofNegAbs(xd));
            out = reduce(per, reduction);
        }
        if (!Graph.needsGrad(x, y)) {
            return out;
        }
        BinaryCrossEntropyWithLogits node = new BinaryCrossEntropyWithLogits();
        node.input = node.save(x);
        node.target = node.save(y);
        node.reduction = reduction;
        return Graph.record(node, out, x, y);
    }

    static Tensor reduce(Tensor per, Reduction reduction) {
        switch (reduction) {
            case MEAN: return per.mean();
            case SUM: return per.sum();
            default: return per;
        }
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = input.unpack();
        Tensor y = target.unpack();
        Tensor g = reduction == Reduction.MEAN ? grad.div(x.numel()) : grad;
        return new Tensor[] {
            needsGrad(0) ? x.sigmoid().sub(y).mul(g) : null,
            needsGrad(1) ? x.neg().mul(g) : null};
    }

    /** {@code log(1 + e^-|x|)}, accurate for large |x|. */
    private static final class LogOnePlusExp {
        static Tensor ofNegAbs(Tensor x) {
            Tensor e = x.abs().neg().exp();
            return io.sparkgrad.backend.Elementwise.unary(io.sparkgrad.backend.UnaryKernel.LOG1P, e);
        }
    }
}
