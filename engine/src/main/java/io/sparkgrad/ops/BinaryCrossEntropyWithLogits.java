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
 *
 * <p>With a {@code posWeight} p (broadcast against x, one per class usually) the positive term is
 * weighted, {@code l = (1-y)·x + (1 + (p-1)·y)·softplus(-x)} with {@code softplus(-x) = max(-x,0) + log(1 + e^-|x|)};
 * with an element {@code weight} w, {@code l = w·l}. As in PyTorch, neither weight is differentiable.
 * <br>{@code x: w·((1 + (p-1)·y)·sigmoid(x) - p·y) * grad}, {@code y: w·(-x + (p-1)·softplus(-x)) * grad}.
 */
public final class BinaryCrossEntropyWithLogits extends Node {
    private SavedTensor input;
    private SavedTensor target;
    private Tensor weight;
    private Tensor posWeight;
    private Reduction reduction;

    private BinaryCrossEntropyWithLogits() {
        super("BinaryCrossEntropyWithLogitsBackward0");
    }

    public static Tensor apply(Tensor x, Tensor y, Reduction reduction) {
        return apply(x, y, null, null, reduction);
    }

    /** With an element {@code weight} and a {@code posWeight} for positives (either may be null). */
    public static Tensor apply(Tensor x, Tensor y, Tensor weight, Tensor posWeight, Reduction reduction) {
        Ops.requireFloat("binaryCrossEntropyWithLogits", x);
        Ops.requireFloat("binaryCrossEntropyWithLogits", y);
        if (!Arrays.equals(x.shape(), y.shape())) {
            throw new IllegalArgumentException("binaryCrossEntropyWithLogits: target size " + Shapes.str(y.shape())
                    + " must be the same as input size " + Shapes.str(x.shape()));
        }
        Tensor w = constant("weight", weight, x);
        Tensor p = constant("pos_weight", posWeight, x);
        Tensor out;
        if (w == null && p == null && x.numel() <= SMALL && !x.storage().onDevice()) {
            out = smallUnweighted(x, y, reduction);
        } else {
            out = composed(x, y, w, p, reduction);
        }
        if (!Graph.needsGrad(x, y)) {
            return out;
        }
        BinaryCrossEntropyWithLogits node = new BinaryCrossEntropyWithLogits();
        node.input = node.save(x);
        node.target = node.save(y);
        node.weight = w;
        node.posWeight = p;
        node.reduction = reduction;
        return Graph.record(node, out, x, y);
    }

    /** Below this many elements one scalar loop beats a chain of vectorized ops (fixed costs dominate). */
    private static final int SMALL = 256;

    /** The unweighted loss of a small tensor in one pass, accumulated in double. */
    private static Tensor smallUnweighted(Tensor x, Tensor y, Reduction reduction) {
        Tensor xc = x.contiguousData();
        Tensor yc = y.contiguousData();
        int n = xc.numel();
        double[] per = reduction == Reduction.NONE ? new double[n] : null;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double v = xc.storage().getAsDouble(xc.storageOffset() + i);
            double t = yc.storage().getAsDouble(yc.storageOffset() + i);
            double l = Math.max(v, 0) - v * t + Math.log1p(Math.exp(-Math.abs(v)));
            if (per != null) {
                per[i] = l;
            }
            sum += l;
        }
        if (per != null) {
            return Ops.cast(Tensor.of(per, x.shape()), x.dtype());
        }
        return Tensor.scalar(reduction == Reduction.MEAN ? sum / n : sum, x.dtype());
    }

    /** The loss as a chain of vectorized tensor ops (large tensors, weights). */
    private static Tensor composed(Tensor x, Tensor y, Tensor w, Tensor p, Reduction reduction) {
        Tensor out;
        try (var g = GradMode.noGrad()) {
            Tensor xd = x.detach();
            Tensor yd = y.detach().to(x.dtype());
            Tensor logTerm = LogOnePlusExp.ofNegAbs(xd);
            Tensor per;
            if (p == null) {
                per = xd.clampMin(0).sub(xd.mul(yd)).add(logTerm);
            } else {
                Tensor logWeight = p.sub(1).mul(yd).add(1);
                per = yd.rsub(1).mul(xd).add(logWeight.mul(logTerm.add(xd.neg().clampMin(0))));
            }
            out = reduce(w == null ? per : per.mul(w), reduction);
        }
        return out;
    }

    /** A weight as a constant of x's dtype that broadcasts to x; PyTorch refuses weights that require grad. */
    private static Tensor constant(String name, Tensor t, Tensor x) {
        if (t == null) {
            return null;
        }
        Ops.requireFloat("binaryCrossEntropyWithLogits", t);
        if (t.requiresGrad() && GradMode.isEnabled()) {
            throw new IllegalArgumentException("binaryCrossEntropyWithLogits is not differentiable with respect to "
                    + "argument '" + name + "'. This input cannot require grad");
        }
        if (!Shapes.expandable(t.shape(), x.shape())) {
            throw new IllegalArgumentException("binaryCrossEntropyWithLogits: " + name + " of shape "
                    + Shapes.str(t.shape()) + " cannot be broadcast to the input's shape " + Shapes.str(x.shape()));
        }
        return Ops.cast(t.detach(), x.dtype());
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
        if (weight != null) {
            g = g.mul(weight);
        }
        if (posWeight == null) {
            return new Tensor[] {
                needsGrad(0) ? x.sigmoid().sub(y).mul(g) : null,
                needsGrad(1) ? x.neg().mul(g) : null};
        }
        Tensor p = posWeight;
        Tensor dx = null;
        Tensor dy = null;
        if (needsGrad(0)) {
            Tensor logWeight = p.sub(1).mul(y).add(1);
            dx = logWeight.mul(x.sigmoid()).sub(p.mul(y)).mul(g);
        }
        if (needsGrad(1)) {
            // softplus(-x) from differentiable primitives, so the formula itself can be differentiated.
            Tensor softplusNeg = x.neg().clampMin(0).add(x.abs().neg().exp().add(1).log());
            dy = x.neg().add(p.sub(1).mul(softplusNeg)).mul(g);
        }
        return new Tensor[] {dx, dy};
    }

    /** {@code log(1 + e^-|x|)}, accurate for large |x|. */
    private static final class LogOnePlusExp {
        static Tensor ofNegAbs(Tensor x) {
            Tensor e = x.abs().neg().exp();
            return io.sparkgrad.backend.Elementwise.unary(io.sparkgrad.backend.UnaryKernel.LOG1P, e);
        }
    }
}
