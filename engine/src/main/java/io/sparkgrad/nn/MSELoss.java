package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/** Mean squared error {@code (x - y)²} ({@code torch.nn.MSELoss}). */
public class MSELoss extends Loss {
    public MSELoss() {
        this(Reduction.MEAN);
    }

    public MSELoss(Reduction reduction) {
        super(reduction);
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return F.mseLoss(input, target, reduction());
    }
}
