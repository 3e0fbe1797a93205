package io.sparkgrad.nn;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

/** Batch normalisation of {@code [N, C]} or {@code [N, C, L]} per channel ({@code torch.nn.BatchNorm1d}); see {@link BatchNorm}. */
public class BatchNorm1d extends BatchNorm {
    public BatchNorm1d(int numFeatures) {
        this(numFeatures, 1e-5, 0.1, true, true);
    }

    /** {@code momentum = null} keeps a cumulative average instead of an exponential one. */
    public BatchNorm1d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        super(numFeatures, eps, momentum, affine, trackRunningStats);
    }

    @Override
    protected void checkInputRank(Tensor input) {
        if (input.dim() != 2 && input.dim() != 3) {
            throw new IllegalArgumentException("BatchNorm1d: expected 2D or 3D input (got " + input.dim() + "D input of shape "
                    + Shapes.str(input.shape()) + ")");
        }
    }
}
