package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/**
 * Cross-entropy of logits against int64 class indices ({@code torch.nn.CrossEntropyLoss}), with
 * optional class weights, an ignored index and label smoothing; see
 * {@link F#crossEntropy(Tensor, Tensor, Tensor, long, Reduction, double)}.
 */
public class CrossEntropyLoss extends Loss {
    private final long ignoreIndex;
    private final double labelSmoothing;

    public CrossEntropyLoss() {
        this(null, F.IGNORE_INDEX, Reduction.MEAN, 0);
    }

    public CrossEntropyLoss(Reduction reduction) {
        this(null, F.IGNORE_INDEX, reduction, 0);
    }

    /** PyTorch's arguments: per-class {@code weight} (null for none), {@code ignoreIndex}, reduction and label smoothing. */
    public CrossEntropyLoss(Tensor weight, long ignoreIndex, Reduction reduction, double labelSmoothing) {
        super(reduction);
        this.ignoreIndex = ignoreIndex;
        this.labelSmoothing = labelSmoothing;
        registerOptionalBuffer("weight", weight);
    }

    /** The class weights, or null. */
    public Tensor weight() {
        return buffer("weight");
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return F.crossEntropy(input, target, weight(), ignoreIndex, reduction(), labelSmoothing);
    }
}
