package io.sparkgrad.spark.train;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model too large to build on the driver (the test JVM has 2 GiB; a 4-40000-40000-2 perceptron
 * needs 6 GiB for its weights alone) is refused like the pre-flight checks refuse, not with a bare
 * {@code OutOfMemoryError}, and the JVM trains on afterwards.
 */
class ModelTooLargeTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("ModelTooLargeTest");
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    @Test
    void aModelThatCannotBeBuiltIsRefusedNamingTheDriverMemory() {
        Dataset<Row> df = new SparkTestSupport.Blobs(4, 2, 0.1, 3).frame(spark, 40, 2);
        SerializableSupplier<Module> huge = () -> new Sequential(new Linear(4, 40_000), new ReLU(),
                new Linear(40_000, 40_000), new ReLU(), new Linear(40_000, 2));
        TrainerConfig cfg = TrainerConfig.builder().model(huge).numClasses(2).batchSize(8).maxEpochs(1).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DistributedTrainer.fit(df, cfg));
        assertTrue(e.getMessage().startsWith("building the model ran out of driver heap")
                && e.getMessage().contains("raise spark.driver.memory"), e.getMessage());
        TrainingResult r = DistributedTrainer.fit(df, cfg.toBuilder().model(SparkTestSupport.mlp(4, 4, 2)).build());
        assertEquals(1, r.history().size());
    }
}
