package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/**
 * Huber loss ({@code torch.nn.HuberLoss}): {@code ½d²} for {@code |d| < delta}, else
 * {@code delta·(|d| - ½delta)}, with {@code d = x - y}; quadratic near the target, robust to outliers.
 */
public class HuberLoss extends Loss {
    private final double delta;

    public HuberLoss() {
        this(Reduction.MEAN, 1.0);
    }

    public HuberLoss(Reduction reduction, double delta) {
        super(reduction);
        this.delta = delta;
    }

    @Override
    public Tensor forward(Tensor input, Tensor target) {
        return F.huberLoss(input, target, reduction(), delta);
    }
}
