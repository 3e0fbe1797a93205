package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/**
 * Binary cross-entropy on logits ({@code torch.nn.BCEWithLogitsLoss}), with an optional element
 * {@code weight} and a {@code posWeight} that weighs positive examples (one per class, say; values
 * above 1 raise recall).
 */
public class BCEWithLogitsLoss extends Loss {
    public BCEWithLogitsLoss() {
        this(null, Reduction.MEAN, null);
    }

    /** PyTorch's arguments, in its order; either weight may be null. */
    public BCEWithLogitsLoss(Tensor weight, Reduction reduction, Tensor posWeight) {
        super(reduction);
        registerOptionalBuffer("weight", weight);
        registerOptionalBuffer("pos_weight", posWeight);
    }

    public Tensor weight() {
        return buffer("weight");
    }

    public Tensor posWeight() {
        return buffer("pos_weight");
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return F.binaryCrossEntropyWithLogits(input, target, weight(), posWeight(), reduction());
    }
}
