package io.sparkgrad.spark.train;

import java.io.Serializable;
import java.util.Locale;

/**
 * What one epoch of {@link DistributedTrainer} did: one entry of {@link TrainingResult#history()}.
 *
 * @param epoch               the epoch, counted from 1
 * @param steps               steps (synchronisations) done in all at the end of this epoch
 * @param trainLoss           the mean training loss over the epoch's rows (weighted when weights are set), as
 *                            computed during the steps (with the parameters of each step)
 * @param validationLoss      the mean loss over the validation rows after the epoch, NaN without validation
 * @param validationMetric    accuracy (classification) or root mean squared error (regression) on the
 *                            validation rows, NaN without validation
 * @param metricName          {@code "accuracy"} or {@code "rmse"}
 * @param rows                training rows processed in this epoch
 * @param rowsPerSecond       {@code rows} divided by the epoch's training time (validation excluded)
 * @param sparkOverheadShare  the share of the epoch's step time not spent computing: step wall time minus the
 *                            tasks' forward/backward time (the slowest task's, or all tasks' over the cluster's
 *                            task slots when partitions outnumber them) minus the driver's optimizer update, over
 *                            step wall time (scheduling, broadcast, serialization, aggregation)
 * @param seconds             the epoch's wall time, validation included
 */
public record EpochStats(int epoch, long steps, double trainLoss, double validationLoss, double validationMetric,
        String metricName, long rows, double rowsPerSecond, double sparkOverheadShare, double seconds)
        implements Serializable {

    /** The line the trainer logs for the epoch. */
    public String describe() {
        String val = Double.isNaN(validationLoss) ? ""
                : String.format(Locale.ROOT, " val_loss=%.5f val_%s=%.4f", validationLoss, metricName, validationMetric);
        return String.format(Locale.ROOT, "epoch %d: steps=%d loss=%.5f%s rows/s=%.0f spark_overhead=%.1f%% time=%.2fs",
                epoch, steps, trainLoss, val, rowsPerSecond, 100 * sparkOverheadShare, seconds);
    }
}
