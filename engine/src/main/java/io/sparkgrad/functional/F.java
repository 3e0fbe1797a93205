package io.sparkgrad.functional;

import io.sparkgrad.Tensor;
import io.sparkgrad.ops.BinaryCrossEntropyWithLogits;
import io.sparkgrad.ops.MseLoss;
import io.sparkgrad.ops.NllLoss;

/**
 * Functions of tensors, as {@code torch.nn.functional}: activations and losses. Losses take
 * PyTorch's defaults (mean reduction); class targets are int64 tensors of indices.
 */
public final class F {
    /** PyTorch's default {@code ignore_index}. */
    public static final long IGNORE_INDEX = -100;

    private F() {
    }

    public static Tensor relu(Tensor x) {
        return x.relu();
    }

    public static Tensor sigmoid(Tensor x) {
        return x.sigmoid();
    }

    public static Tensor tanh(Tensor x) {
        return x.tanh();
    }

    public static Tensor softmax(Tensor x, int dim) {
        return x.softmax(dim);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return x.logSoftmax(dim);
    }

    /** Binary cross-entropy on logits with targets in [0, 1], averaged. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target) {
        return BinaryCrossEntropyWithLogits.apply(input, target, Reduction.MEAN);
    }

    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Reduction reduction) {
        return BinaryCrossEntropyWithLogits.apply(input, target, reduction);
    }

    /** Cross-entropy of logits {@code [N, C]} against class indices {@code [N]}: {@code nllLoss(logSoftmax(input, 1), target)}. */
    public static Tensor crossEntropy(Tensor input, Tensor target) {
        return crossEntropy(input, target, Reduction.MEAN);
    }

    public static Tensor crossEntropy(Tensor input, Tensor target, Reduction reduction) {
        return nllLoss(input.logSoftmax(input.dim() == 1 ? 0 : 1), target, null, reduction, IGNORE_INDEX);
    }

    /** Negative log-likelihood of log-probabilities {@code [N, C]} against class indices {@code [N]}. */
    public static Tensor nllLoss(Tensor input, Tensor target) {
        return nllLoss(input, target, null, Reduction.MEAN, IGNORE_INDEX);
    }

    public static Tensor nllLoss(Tensor input, Tensor target, Reduction reduction) {
        return nllLoss(input, target, null, reduction, IGNORE_INDEX);
    }

    /** With per-class {@code weight} (null for none) and an index whose rows are ignored. */
    public static Tensor nllLoss(Tensor input, Tensor target, Tensor weight, Reduction reduction, long ignoreIndex) {
        return NllLoss.apply(input, target, weight, reduction, ignoreIndex);
    }

    public static Tensor mseLoss(Tensor input, Tensor target) {
        return MseLoss.apply(input, target, Reduction.MEAN);
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        return MseLoss.apply(input, target, reduction);
    }
}
