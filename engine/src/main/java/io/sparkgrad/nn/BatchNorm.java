package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * Batch normalisation per channel (dimension 1), the shared part of {@link BatchNorm1d} and
 * {@link BatchNorm2d}, exactly as PyTorch's {@code _BatchNorm}:
 * <ul>
 *   <li>in training, the batch mean and biased variance normalise, and the running statistics
 *       move towards the batch's, {@code running = (1 - momentum)·running + momentum·batch}
 *       (the running variance takes the <em>unbiased</em> batch variance);
 *       {@code num_batches_tracked} counts the batches, and with {@code momentum = null} the
 *       running statistics are the cumulative average ({@code momentum = 1/num_batches_tracked});</li>
 *   <li>in eval mode the running statistics normalise;</li>
 *   <li>without running statistics ({@code trackRunningStats = false}) the batch statistics are
 *       used in both modes.</li>
 * </ul>
 * Parameters {@code weight} (ones) and {@code bias} (zeros) of shape {@code [C]}; buffers
 * {@code running_mean} (zeros), {@code running_var} (ones) and the int64 scalar
 * {@code num_batches_tracked}, all in the state dict under PyTorch's names.
 */
public abstract class BatchNorm extends Module {
    private final int numFeatures;
    private final double eps;
    private final Double momentum;

    protected BatchNorm(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        if (affine) {
            registerParameter("weight", new Parameter(Tensor.ones(DType.FLOAT32, numFeatures)));
            registerParameter("bias", new Parameter(Tensor.zeros(DType.FLOAT32, numFeatures)));
        }
        if (trackRunningStats) {
            registerBuffer("running_mean", Tensor.zeros(DType.FLOAT32, numFeatures));
            registerBuffer("running_var", Tensor.ones(DType.FLOAT32, numFeatures));
            registerBuffer("num_batches_tracked", Tensor.zeros(DType.INT64));
        }
    }

    /** Throws unless {@code input} has a rank this layer accepts. */
    protected abstract void checkInputRank(Tensor input);

    public Parameter weight() {
        return parameter("weight");
    }

    public Parameter bias() {
        return parameter("bias");
    }

    /** The running mean, or null without running statistics. */
    public Tensor runningMean() {
        return buffer("running_mean");
    }

    public Tensor runningVar() {
        return buffer("running_var");
    }

    public Tensor numBatchesTracked() {
        return buffer("num_batches_tracked");
    }

    @Override
    public Tensor forward(Tensor input) {
        checkInputRank(input);
        if (input.size(1) != numFeatures) {
            throw new IllegalArgumentException(getClass().getSimpleName() + "(" + numFeatures + "): expected input with "
                    + numFeatures + " channels in dimension 1, got shape " + Shapes.str(input.shape()));
        }
        Tensor count = numBatchesTracked();
        double factor = momentum == null ? 0 : momentum;
        if (isTraining() && count != null) {
            // An int64 scalar: fill_ is the in-place write that int64 tensors support.
            count.fill_(count.item() + 1);
            if (momentum == null) {
                factor = 1.0 / count.item();
            }
        }
        return F.batchNorm(input, runningMean(), runningVar(), weight(), bias(), isTraining(), factor, eps);
    }

    @Override
    protected String extraRepr() {
        return numFeatures + ", eps=" + pyFloat(eps) + ", momentum=" + (momentum == null ? "None" : pyFloat(momentum))
                + ", affine=" + py(weight() != null) + ", track_running_stats=" + py(runningMean() != null);
    }
}
