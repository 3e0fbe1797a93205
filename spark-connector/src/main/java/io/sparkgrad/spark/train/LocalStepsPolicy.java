package io.sparkgrad.spark.train;

/**
 * The number of local steps K when the configuration leaves it to the trainer
 * ({@link TrainerConfig#AUTO_LOCAL_STEPS}): the smallest K whose estimated compute per
 * synchronisation is at least four times the estimated cost of the synchronisation, so that
 * Spark's overhead stays under about 20% of a step on {@code local[2]}. Big models, or big
 * batches, get K = 1 (exact synchronous SGD); small ones get more local steps.
 *
 * <p>K is a deterministic function of the parameter count, the batch size and the partition count
 * (never of a timing), so reruns and resumed runs use the same K. The two estimates come from
 * measurements on this project's 2-core machines (SPARK-NOTES, BENCHMARKING and
 * {@code TrainerBench}):
 * <ul>
 *   <li>a synchronisation (one job: broadcast the parameters, run the tasks, aggregate the results at
 *       depth 1) costs about {@value #SYNC_SECONDS} s plus the bytes moved, parameters out and one
 *       result in per partition, at about {@value #BYTES_PER_SECOND} bytes/s;</li>
 *   <li>a forward and backward pass costs about 6 floating-point operations per parameter and row
 *       (two for the forward product, four for the two backward ones), computed at about
 *       {@value #FLOPS_PER_SECOND} FLOP/s by one engine thread for the small batches a partition
 *       sees.</li>
 * </ul>
 * The FLOP estimate counts parameters, so it underestimates convolutions (which reuse each weight
 * many times per row) and gives them a larger K than they need; set {@code localSteps} explicitly
 * for such models. K never exceeds the mini-batches of an epoch.
 */
final class LocalStepsPolicy {
    static final double SYNC_SECONDS = 0.030;
    static final double BYTES_PER_SECOND = 1e9;
    static final double FLOPS_PER_SECOND = 50e9;
    /** Compute per synchronisation over synchronisation cost: 4 makes the overhead 1/5 = 20%. */
    static final double RATIO = 4;

    private LocalStepsPolicy() {
    }

    /** Estimated seconds of one synchronisation. */
    static double syncSeconds(long parameters, int partitions) {
        return SYNC_SECONDS + 4.0 * parameters * (1 + partitions) / BYTES_PER_SECOND;
    }

    /** Estimated seconds of one partition's share of one mini-batch. */
    static double stepSeconds(long parameters, int batchSize, int partitions) {
        double rows = Math.ceil((double) batchSize / partitions);
        return 6.0 * parameters * rows / FLOPS_PER_SECOND;
    }

    static int choose(long parameters, int batchSize, int partitions, int batchesPerEpoch) {
        double k = Math.ceil(RATIO * syncSeconds(parameters, partitions) / stepSeconds(parameters, batchSize, partitions));
        return (int) Math.max(1, Math.min(batchesPerEpoch, k));
    }
}
