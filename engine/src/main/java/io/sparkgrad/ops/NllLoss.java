package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.functional.Reduction;

/**
 * Negative log-likelihood of class indices: {@code l_i = -w[t_i] · x[i, t_i]} for log-probabilities
 * {@code x} of shape {@code [N, C]} (or {@code [C]}) and int64 targets {@code t}; rows whose target
 * is {@code ignoreIndex} count for nothing. The mean divides by {@code Σ w[t_i]} over counted rows.
 * <br>{@code x: -w[t_i] * grad_i} at {@code [i, t_i]}, zero elsewhere.
 */
public final class NllLoss extends Node {
    private SavedTensor target;
    private int[] inputShape;
    /** Per-row factor {@code -w[t_i]} (0 for ignored rows), divided by the total weight for the mean. */
    private Tensor rowScale;
    private Reduction reduction;

    private NllLoss() {
        super("NllLossBackward0");
    }

    public static Tensor apply(Tensor x, Tensor target, Tensor weight, Reduction reduction, long ignoreIndex) {
        Ops.requireFloat("nllLoss", x);
        boolean single = x.dim() == 1;
        Tensor input = single ? x.unsqueeze(0) : x;
        Tensor t = single ? target.reshape(1) : target;
        if (input.dim() != 2) {
            throw new IllegalArgumentException("nllLoss: expected input of shape [N, C] or [C], got " + Shapes.str(x.shape()));
        }
        ClassTargets targets = ClassTargets.of("nllLoss", input, t, weight, reduction, ignoreIndex);
        int n = targets.rows;
        Tensor scaleT = targets.scaleTensor(x.dtype());
        Tensor safeIdx = targets.indexColumn();
        Tensor picked = io.sparkgrad.backend.Indexing.gather(input.detach(), 1, safeIdx).reshape(n);
        Tensor per = io.sparkgrad.backend.Elementwise.binary(io.sparkgrad.backend.BinaryKernel.MUL, picked, scaleT, "nllLoss");
        Tensor out = reduction == Reduction.NONE ? (single ? per.reshape() : per) : per.detach().sum();
        if (!Graph.needsGrad(input)) {
            return out;
        }
        NllLoss node = new NllLoss();
        node.target = node.save(safeIdx);
        node.inputShape = input.shape();
        node.rowScale = scaleT;
        node.reduction = reduction;
        Tensor recorded = Graph.record(node, out, input);
        return recorded;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        int n = inputShape[0];
        Tensor perRow = reduction == Reduction.NONE ? grad.reshape(n).mul(rowScale) : rowScale.mul(grad);
        return new Tensor[] {ScatterAdd.apply(inputShape, 1, target.unpack(), perRow.reshape(n, 1))};
    }
}
