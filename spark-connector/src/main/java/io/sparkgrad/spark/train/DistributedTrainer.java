package io.sparkgrad.spark.train;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Data-parallel training of an engine {@code Module} on a Spark {@code Dataset<Row>}.
 *
 * <pre>{@code
 * TrainingResult r = DistributedTrainer.fit(df, cfg);
 * TrainingResult r = new DistributedTrainer(cfg).onEpoch(s -> log.info(s.describe())).fit(train, validation);
 * }</pre>
 */
public final class DistributedTrainer {
    private final TrainerConfig config;
    private Consumer<EpochStats> epochListener = s -> { };

    public DistributedTrainer(TrainerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** Trains on {@code train} as {@code config} says (validation from {@code config.validationFraction()}, if any). */
    public static TrainingResult fit(Dataset<Row> train, TrainerConfig config) {
        return new DistributedTrainer(config).fit(train);
    }

    /** Called on the driver after every epoch, after the epoch's log line. */
    public DistributedTrainer onEpoch(Consumer<EpochStats> listener) {
        this.epochListener = Objects.requireNonNull(listener, "listener");
        return this;
    }

    public TrainingResult fit(Dataset<Row> train) {
        return fit(train, (Dataset<Row>) null);
    }

    /**
     * Trains on {@code train}, validating after each epoch on {@code validation} (same columns;
     * null for none, or for the configuration's validation fraction).
     */
    public TrainingResult fit(Dataset<Row> train, Dataset<Row> validation) {
        throw new UnsupportedOperationException("the training loop lands in the next commit");
    }
}
