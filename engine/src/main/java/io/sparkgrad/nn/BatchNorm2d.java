package io.sparkgrad.nn;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

/** Batch normalisation of {@code [N, C, H, W]} per channel ({@code torch.nn.BatchNorm2d}); see {@link BatchNorm}. */
public class BatchNorm2d extends BatchNorm {
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5, 0.1, true, true);
    }

    /** {@code momentum = null} keeps a cumulative average instead of an exponential one. */
    public BatchNorm2d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected void checkInputRank(Tensor input) {
        if (input.dim() != 4) {
            throw new IllegalArgumentException("BatchNorm2d: expected 4D input (got " + input.dim() + "D input of shape "
                    + Shapes.str(input.shape()) + ")");
        }
    }
}
