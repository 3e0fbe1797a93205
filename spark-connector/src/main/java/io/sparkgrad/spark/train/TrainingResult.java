package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.nn.Module;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link DistributedTrainer#fit} returns: the trained model on the driver, the per-epoch
 * history and the counts of rows used and skipped.
 */
public final class TrainingResult {
    private final Module model;
    private final List<EpochStats> history;
    private final Map<String, Long> skippedByReason;
    private final long trainRows;
    private final long validationRows;
    private final long steps;
    private final boolean stoppedEarly;
    private final int bestEpoch;
    private final long resumedFromStep;
    private final int numFeatures;
    private final int localSteps;

    TrainingResult(Module model, List<EpochStats> history, Map<String, Long> skippedByReason, long trainRows,
            long validationRows, long steps, boolean stoppedEarly, int bestEpoch, long resumedFromStep,
            int numFeatures, int localSteps) {
        this.model = model;
        this.history = List.copyOf(history);
        this.skippedByReason = Collections.unmodifiableMap(new LinkedHashMap<>(skippedByReason));
        this.trainRows = trainRows;
        this.validationRows = validationRows;
        this.steps = steps;
        this.stoppedEarly = stoppedEarly;
        this.bestEpoch = bestEpoch;
        this.resumedFromStep = resumedFromStep;
        this.numFeatures = numFeatures;
        this.localSteps = localSteps;
    }

    /**
     * The trained model, built by the configuration's factory and holding the final parameters
     * or, with early stopping configured ({@code earlyStoppingPatience > 0}) and validation data,
     * the parameters of the epoch with the lowest validation loss ({@link #bestEpoch()}). It is in
     * evaluation mode.
     */
    public Module model() {
        return model;
    }

    /** The model's state dict (parameters and buffers by PyTorch's dotted names), ready for safetensors. */
    public LinkedHashMap<String, Tensor> stateDict() {
        return model.stateDict();
    }

    /** One entry per epoch run by this call (epochs before a resume are not repeated here). */
    public List<EpochStats> history() {
        return history;
    }

    /** The last epoch's statistics, or null when no epoch ran (a resume of a finished run). */
    public EpochStats lastEpoch() {
        return history.isEmpty() ? null : history.get(history.size() - 1);
    }

    /** Rows dropped by {@code handleInvalid = skip}, training and validation data together. */
    public long skippedRows() {
        long n = 0;
        for (long v : skippedByReason.values()) {
            n += v;
        }
        return n;
    }

    /** Skipped rows by reason ({@code "null features"}, {@code "label out of range"}, …); empty when none. */
    public Map<String, Long> skippedByReason() {
        return skippedByReason;
    }

    /** Training rows after skipping (and after holding out the validation fraction). */
    public long trainRows() {
        return trainRows;
    }

    /** Validation rows after skipping; 0 without validation. */
    public long validationRows() {
        return validationRows;
    }

    /** Steps (synchronisations) done in all, including those before a resume. */
    public long steps() {
        return steps;
    }

    /** Whether early stopping ended the run before {@code maxEpochs}. */
    public boolean stoppedEarly() {
        return stoppedEarly;
    }

    /**
     * The epoch (from 1) with the lowest validation loss (the model holds its parameters when early
     * stopping is configured); 0 without validation.
     */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** The step a checkpoint let this run start from; 0 when it started fresh. */
    public long resumedFromStep() {
        return resumedFromStep;
    }

    /** The length of the feature vector the model was trained on. */
    public int numFeatures() {
        return numFeatures;
    }

    /** The local steps per synchronisation used (the one chosen when the configuration said 0, auto). */
    public int localSteps() {
        return localSteps;
    }

    @Override
    public String toString() {
        return "TrainingResult(steps=" + steps + ", localSteps=" + localSteps + ", epochs=" + history.size() + ", trainRows=" + trainRows
                + ", validationRows=" + validationRows + ", skipped=" + skippedByReason + ", stoppedEarly="
                + stoppedEarly + ", bestEpoch=" + bestEpoch + ")";
    }
}
