package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/** Negative log-likelihood of log-probabilities against int64 class indices ({@code torch.nn.NLLLoss}). */
public class NLLLoss extends Loss {
    private final long ignoreIndex;

    public NLLLoss() {
        this(null, F.IGNORE_INDEX, Reduction.MEAN);
    }

    /** Per-class {@code weight} (null for none); the mean divides by the total weight of the counted rows. */
    public NLLLoss(Tensor weight, long ignoreIndex, Reduction reduction) {
        super(reduction);
        this.ignoreIndex = ignoreIndex;
        registerOptionalBuffer("weight", weight);
    }

    public Tensor weight() {
        return buffer("weight");
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return F.nllLoss(input, target, weight(), reduction(), ignoreIndex);
    }
}
