package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.train.EpochStats;
import io.sparkgrad.spark.train.TrainingResult;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * What a fit did, kept on the model it returned ({@code model.summary()}): one
 * {@link EpochStats} per epoch (training loss, validation loss and metric, rows per second,
 * Spark's overhead share) and the row counts, skipped rows included. As Spark's own training
 * summaries it lives in memory only: a model loaded from disk has none.
 */
public final class NeuralNetTrainingSummary implements Serializable {
    private static final long serialVersionUID = 1L;

    private final List<EpochStats> history;
    private final Map<String, Long> skippedByReason;
    private final long skippedRows;
    private final long trainRows;
    private final long validationRows;
    private final long totalSteps;
    private final int localSteps;
    private final boolean stoppedEarly;
    private final int bestEpoch;
    private final long resumedFromStep;
    private final double fitSeconds;

    NeuralNetTrainingSummary(TrainingResult r, double fitSeconds) {
        this.history = r.history();
        this.skippedByReason = Map.copyOf(r.skippedByReason());
        this.skippedRows = r.skippedRows();
        this.trainRows = r.trainRows();
        this.validationRows = r.validationRows();
        this.totalSteps = r.steps();
        this.localSteps = r.localSteps();
        this.stoppedEarly = r.stoppedEarly();
        this.bestEpoch = r.bestEpoch();
        this.resumedFromStep = r.resumedFromStep();
        this.fitSeconds = fitSeconds;
    }

    /** One entry per epoch this fit ran, in order. */
    public List<EpochStats> history() {
        return history;
    }

    /** The number of epochs this fit ran. */
    public int totalEpochs() {
        return history.size();
    }

    /** Steps (synchronisations, one Spark job each) in all, those before a resume included. */
    public long totalSteps() {
        return totalSteps;
    }

    /** The local steps K per synchronisation the fit used (the trainer's choice when the param was 0). */
    public int localSteps() {
        return localSteps;
    }

    /** The mean training loss of each epoch (Spark's {@code objectiveHistory}). */
    public double[] objectiveHistory() {
        return column(EpochStats::trainLoss);
    }

    /** The validation loss after each epoch; NaN without validation data. */
    public double[] validationLossHistory() {
        return column(EpochStats::validationLoss);
    }

    /** The validation metric after each epoch ({@link #metricName()}); NaN without validation data. */
    public double[] validationMetricHistory() {
        return column(EpochStats::validationMetric);
    }

    /** {@code "accuracy"} (classifier) or {@code "rmse"} (regressor). */
    public String metricName() {
        return history.isEmpty() ? "" : history.get(0).metricName();
    }

    /** Training rows per second in each epoch. */
    public double[] rowsPerSecond() {
        return column(EpochStats::rowsPerSecond);
    }

    /** The share of each epoch's step time spent outside computation (scheduling, broadcast, aggregation). */
    public double[] sparkOverheadShare() {
        return column(EpochStats::sparkOverheadShare);
    }

    /** Training rows, after skipping and after holding out validation rows. */
    public long trainRows() {
        return trainRows;
    }

    /** Validation rows after skipping; 0 without validation. */
    public long validationRows() {
        return validationRows;
    }

    /** Rows dropped by {@code handleInvalid = "skip"}, training and validation together. */
    public long skippedRows() {
        return skippedRows;
    }

    /** Skipped rows by reason; empty when none were skipped. */
    public Map<String, Long> skippedByReason() {
        return skippedByReason;
    }

    /** Whether early stopping ended training before maxEpochs. */
    public boolean stoppedEarly() {
        return stoppedEarly;
    }

    /** The epoch (from 1) whose weights the model holds when validating; 0 without validation. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** The step a checkpoint let this fit resume from; 0 when it started fresh. */
    public long resumedFromStep() {
        return resumedFromStep;
    }

    /** Wall time of the whole fit, in seconds (data conversion and validation included). */
    public double fitSeconds() {
        return fitSeconds;
    }

    private double[] column(ToDoubleFunction<EpochStats> f) {
        return history.stream().mapToDouble(f).toArray();
    }

    /** The epochs' log lines, then the totals. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (EpochStats s : history) {
            b.append(s.describe()).append('\n');
        }
        b.append(String.format(Locale.ROOT, "%d epochs, %d steps (K = %d local steps each), %d training rows, %d validation rows, %d skipped%s, "
                        + "fit %.2fs%s", totalEpochs(), totalSteps, localSteps, trainRows, validationRows, skippedRows,
                skippedByReason.isEmpty() ? "" : " " + skippedByReason, fitSeconds,
                stoppedEarly ? ", stopped early (best epoch " + bestEpoch + ")" : ""));
        return b.toString();
    }
}
