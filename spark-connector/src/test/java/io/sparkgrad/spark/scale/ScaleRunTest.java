package io.sparkgrad.spark.scale;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.train.DistributedTrainer;
import io.sparkgrad.spark.train.OptimizerSpec;
import io.sparkgrad.spark.train.SerializableSupplier;
import io.sparkgrad.spark.train.TrainerConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scale runs of {@code scripts/scale-run.sh} at a size CI can afford: the teacher data set
 * written as Parquet and trained over with so little storage memory that Spark must keep most of
 * the cached Arrow chunks on disk, and the pre-flight check refusing a model that the driver's heap
 * cannot hold, before it trains anything.
 */
class ScaleRunTest {
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        // Storage memory of (2 GiB - 300 MiB) x 0.01, about 17 MiB, for 40 MiB of training data.
        spark = SparkSession.builder().master("local[2]").appName("ScaleRunTest")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.memory.fraction", "0.01")
                .config("spark.sql.files.maxPartitionBytes", "4m")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", "io.sparkgrad.spark.kryo.SparkgradKryoRegistrator")
                .config("spark.kryoserializer.buffer.max", "1g") // so the memory check, not Kryo's, refuses the big model
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void teacherDataIsAPureFunctionOfSeedAndRow() {
        TeacherData t = new TeacherData(100, 32, 10, 1);
        TeacherData same = new TeacherData(100, 32, 10, 1);
        assertArrayEquals(t.features(123_456), same.features(123_456));
        assertEquals(t.label(t.features(99)), same.label(same.features(99)));
        int[] counts = new int[10];
        for (long id = 0; id < 20_000; id++) {
            counts[t.label(t.features(id))]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(counts[c] > 0, "class " + c + " never wins: the teacher must use every class");
        }
    }

    @Test
    void trainingOverParquetBiggerThanStorageMemorySpillsTheCachedChunksToDiskAndLearns() {
        String data = tmp.resolve("teacher.parquet").toString();
        String generated = ScaleRun.generate(spark, data, 100_000, 100, 10, 8, 1);
        assertTrue(generated.startsWith("generated 100,000 rows x 100 features"), generated);
        ScaleRun.TrainReport r = ScaleRun.train(spark, data, 1024, 2, 64, 10);
        System.out.println("scale-run (CI size) result: " + r.describe());
        assertEquals(100_000, r.rows());
        assertEquals(2, r.epochs());
        assertTrue(r.cachedOnDisk() > 20L << 20, "most of the 40 MiB of chunks went to disk: " + r.describe());
        assertTrue(r.loss() < 1.0, "the student learns the teacher (ln 10 = 2.30 at chance): " + r.describe());
    }

    @Test
    void aModelTheDriverHeapCannotHoldIsRefusedBeforeTraining() {
        // 40M parameters with Adam on local[2] need about 3.7 GiB; the test JVM has 2 GiB. Refused before
        // the data is converted: the model is built and measured first.
        SerializableSupplier<Module> big = () -> new Sequential(new Linear(100, 6300), new ReLU(), new Linear(6300, 6300),
                new ReLU(), new Linear(6300, 10));
        Dataset<Row> df = new TeacherData(100, 32, 10, 3).frame(spark, 64, 2);
        TrainerConfig cfg = TrainerConfig.builder().model(big).numClasses(10).optimizer(OptimizerSpec.adam(1e-4))
                .batchSize(32).maxSteps(1).localSteps(1).featuresCol("features").build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DistributedTrainer.fit(df, cfg));
        assertTrue(e.getMessage().contains("parameters with adam needs about")
                && e.getMessage().contains("raise spark.driver.memory"), e.getMessage());
        assertTrue(spark.sparkContext().getPersistentRDDs().isEmpty(), "the converted data is no longer cached");
    }
}
