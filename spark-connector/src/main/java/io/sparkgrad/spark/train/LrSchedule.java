package io.sparkgrad.spark.train;

/**
 * How the learning rate of {@link TrainerConfig#optimizer()} changes from epoch to epoch. The rate
 * of an epoch is a closed-form function of the epoch alone ({@link TrainerConfig#learningRate(int)}),
 * so a run resumed from a checkpoint continues on the same schedule.
 */
public enum LrSchedule {
    /** The optimizer's learning rate throughout. */
    CONSTANT,
    /**
     * Annealed along a cosine from the optimizer's rate to 0 over {@code maxEpochs}, stepped once
     * per epoch: PyTorch's {@code CosineAnnealingLR(T_max=maxEpochs, eta_min=0)} stepped after each
     * epoch, i.e. epoch {@code e} (from 0) uses {@code lr · (1 + cos(π·e / maxEpochs)) / 2}.
     */
    COSINE
}
