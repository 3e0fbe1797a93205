package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.train.DistributedTrainer;
import io.sparkgrad.spark.train.TrainerConfig;
import io.sparkgrad.spark.train.TrainingResult;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Map;
import java.util.Objects;

/**
 * The lower-level Java API: trains any engine {@code Module}, with the loss and optimizer of a
 * {@link TrainerConfig}, on a {@code Dataset<Row>}, and returns a {@link TrainedModule} that holds
 * the trained network, transforms DataFrames with it on the executors, saves it as safetensors,
 * or becomes a Spark ML model for a {@code Pipeline}.
 *
 * <pre>{@code
 * TrainedModule trained = ModuleTrainer.fit(train, TrainerConfig.builder()
 *         .model(() -> new Sequential(new Linear(4, 32), new Tanh(), new Linear(32, 3)))
 *         .numClasses(3)                               // cross-entropy; numClasses(0) is regression (MSE)
 *         .optimizer(OptimizerSpec.adamw(3e-3).withWeightDecay(1e-4))
 *         .batchSize(64).maxEpochs(20).seed(7).localSteps(4)
 *         .featuresCol("features").labelCol("label")
 *         .build());
 * Module net = trained.network();                      // an ordinary engine Module, trained
 * trained.history().forEach(e -> System.out.println(e.describe()));
 * Dataset<Row> scored = trained.transform(test, "logits");
 * trained.save("hdfs:///models/iris.safetensors");     // PyTorch reads it with safetensors.torch.load_file
 * }</pre>
 *
 * The factory must build the same architecture on every call (each executor builds its own
 * replica); with {@code seed} the initial weights are reproducible as far as the factory draws them
 * from the engine's default generator, which the trainer seeds.
 */
public final class ModuleTrainer {
    private ModuleTrainer() {
    }

    /** Trains on {@code train} as {@code config} says (validation from its validation fraction, if any). */
    public static TrainedModule fit(Dataset<Row> train, TrainerConfig config) {
        return fit(train, null, config);
    }

    /** Trains on {@code train}, validating on {@code validation} (same columns) after each epoch; null for none. */
    public static TrainedModule fit(Dataset<Row> train, Dataset<Row> validation, TrainerConfig config) {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(config, "config");
        long start = System.nanoTime();
        TrainingResult result = new DistributedTrainer(config).fit(train, validation);
        byte[] weights = Weights.encode(result.stateDict(), Map.of("format", "pt", "producer", "sparkgrad"));
        return new TrainedModule(config, result, weights, (System.nanoTime() - start) / 1e9);
    }
}
