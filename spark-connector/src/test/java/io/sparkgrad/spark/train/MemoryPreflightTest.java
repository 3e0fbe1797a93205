package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.nn.Conv2d;
import io.sparkgrad.nn.Flatten;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-flight memory check refuses, naming the setting, what cannot fit, and lets through what can. */
class MemoryPreflightTest {
    private static final long GIB = 1L << 30;

    /** Synchronous steps (the optimizer on the driver); the model factory is never called here. */
    private static TrainerConfig cfg(OptimizerSpec optimizer) {
        return TrainerConfig.builder().model(SparkTestSupport.mlp(2, 2, 2)).numClasses(2).optimizer(optimizer)
                .localSteps(1).build();
    }

    @Test
    void theDriverEstimateCountsParametersGradientsStateBroadcastSumsAndLocalReplicas() {
        // 1M parameters, Adam, 2 results at the driver (2 serialized, 2 tree levels), 2 local tasks:
        // 2 + 2 + 2 + 2 + 2 + 10 = 20 floats per parameter, plus a quarter.
        assertEquals(4L * 20 * 1_000_000 * 5 / 4, MemoryPreflight.driverBytes(1_000_000, 2, 2, 2, 0));
        // Plain SGD on a cluster, 1 result: 2 + 0 + 2 + 1 + 1 = 6.
        assertEquals(4L * 6 * 1_000_000 * 5 / 4, MemoryPreflight.driverBytes(1_000_000, 0, 1, 0, 0));
        // Local steps with Adam inside and averaging outside: no state on the driver, 2 per local replica.
        TrainerConfig local = cfg(OptimizerSpec.adam(1e-3)).toBuilder().localSteps(8).build();
        assertEquals(0, MemoryPreflight.driverStateFloats(local));
        assertEquals(2, MemoryPreflight.replicaStateFloats(local));
        TrainerConfig auto = local.toBuilder().localSteps(TrainerConfig.AUTO_LOCAL_STEPS).build();
        assertEquals(2, MemoryPreflight.driverStateFloats(auto), "K not known yet: the larger state");
        assertEquals(1, MemoryPreflight.stateFloats(OptimizerSpec.sgd(0.1).withMomentum(0.9)));
        assertEquals(2, MemoryPreflight.localThreads("local[2]"));
        assertEquals(3, MemoryPreflight.localThreads("local[3,2]"));
        assertEquals(1, MemoryPreflight.localThreads("local"));
    }

    @Test
    void fiftyMillionParametersWithAdamOnLocal2NeedMoreThanAOneGibDriver() {
        SparkConf conf = new SparkConf().set("spark.master", "local[2]");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, cfg(OptimizerSpec.adam(1e-3)), 50_000_000, 2, GIB));
        assertTrue(e.getMessage().startsWith("a model of 50,000,000 parameters with adam needs about 4.7 GiB of driver heap"),
                e.getMessage());
        assertTrue(e.getMessage().contains("raise spark.driver.memory") && e.getMessage().contains("at least 5.2 GiB")
                && e.getMessage().contains("local[2]"), e.getMessage());
        // What scripts/scale-run.sh gives it, and it trains there (RELIABILITY.md, Scale).
        assertDoesNotThrow(() -> MemoryPreflight.check(conf, cfg(OptimizerSpec.adam(1e-3)), 50_000_000, 2, 6 * GIB));
    }

    @Test
    void anExecutorTooSmallForTheReplicasIsRefusedNamingSparkExecutorMemory() {
        SparkConf conf = new SparkConf().set("spark.master", "spark://127.0.0.1:7077")
                .set("spark.executor.memory", "1g").set("spark.executor.cores", "4");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, cfg(OptimizerSpec.sgd(0.1)), 50_000_000, 1, 8 * GIB));
        assertTrue(e.getMessage().contains("4 concurrent task(s)") && e.getMessage().contains("raise spark.executor.memory"),
                e.getMessage());
        assertDoesNotThrow(() -> MemoryPreflight.check(conf.set("spark.executor.memory", "8g"),
                cfg(OptimizerSpec.sgd(0.1)), 50_000_000, 1, 8 * GIB));
    }

    @Test
    void aGradientOverSparksBlockLimitIsRefusedWhateverTheMemory() {
        SparkConf conf = new SparkConf().set("spark.master", "local[2]");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, cfg(OptimizerSpec.sgd(0.1)), 600_000_000, 1, 1024 * GIB));
        assertTrue(e.getMessage().contains("over Spark's 2 GiB limit for one block"), e.getMessage());
    }

    @Test
    void oneExamplesActivationsAreEstimatedLayerByLayerWithTheConvolutionsColumns() {
        // [1, 8, 8] in (64), conv 1→4 k3 out [4, 6, 6] (144) with columns 1·3·3·36 (324), relu (144), flatten
        // (144), linear to 2.
        Module net = new Sequential(new Conv2d(1, 4, 3), new ReLU(), new Flatten(), new Linear(144, 2));
        net.train();
        net.children().get(1).eval();
        assertEquals(64 + 144 + 324 + 144 + 144 + 2, MemoryPreflight.activationFloats(net, new int[] {1, 8, 8}));
        assertTrue(net.isTraining() && !net.children().get(1).isTraining(), "the probe restores every module's mode");
        // A model that does not take the shape: not known here, the first step names the mismatch.
        assertEquals(0, MemoryPreflight.activationFloats(net, new int[] {5}));
    }

    @Test
    void aModelWithAModuleOfTheUsersOwnIsNotRunOnTheDriver() {
        int[] calls = {0};
        Module own = new Module() {
            @Override
            public Tensor forward(Tensor input) {
                calls[0]++;
                return input;
            }
        };
        assertEquals(0, MemoryPreflight.activationFloats(new Sequential(new Linear(4, 2), own), new int[] {4}));
        assertEquals(0, MemoryPreflight.activationFloats(own, new int[] {4}));
        assertEquals(0, calls[0], "its forward, which may count calls or block, was not called");
    }

    @Test
    void aMiniBatchShareWhoseActivationsCannotFitIsRefusedNamingTheBatchSize() {
        SparkConf conf = new SparkConf().set("spark.master", "local[2]");
        TrainerConfig big = cfg(OptimizerSpec.sgd(0.1)).toBuilder().batchSize(1024).build();
        // 1,000 parameters, but 1M values per example and 512 rows per task (1024 over 2 partitions):
        // 2 × 4 GB of activations and gradients per task.
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, big, 1_000, 2, GIB, 1_000_000, 2));
        assertTrue(e.getMessage().contains("or a smaller batchSize; each task's 512 rows of the mini-batch need about "
                + "4.8 GiB of activations and their gradients (1,000,000 values per example)"), e.getMessage());
        assertDoesNotThrow(() -> MemoryPreflight.check(conf, big.toBuilder().batchSize(8).build(), 1_000, 2, GIB,
                1_000_000, 2));
        SparkConf cluster = new SparkConf().set("spark.master", "spark://127.0.0.1:7077")
                .set("spark.executor.memory", "2g").set("spark.executor.cores", "2");
        e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(cluster, big, 1_000, 2, GIB, 1_000_000, 8));
        assertTrue(e.getMessage().contains("raise spark.executor.memory") && e.getMessage().contains("128 rows"),
                e.getMessage());
    }

    @Test
    void onlyAsManyTasksAsPartitionsHoldActivationsAtOnce() {
        TrainerConfig c = cfg(OptimizerSpec.sgd(0.1)).toBuilder().batchSize(128).build();
        // One partition: one task at a time takes the whole batch, 128 rows × 100,000 values × 2 × 4 bytes × 1.25
        // = 122 MiB. Counting it for each of local[16]'s threads would ask for 2 GiB.
        long heap = 512L << 20;
        assertDoesNotThrow(() -> MemoryPreflight.check(new SparkConf().set("spark.master", "local[16]"), c, 1_000, 1,
                heap, 100_000, 1));
        assertThrows(IllegalStateException.class, () -> MemoryPreflight.check(
                new SparkConf().set("spark.master", "local[16]"), c, 1_000, 16, heap, 100_000 * 16L, 16),
                "16 partitions on 16 threads do hold 16 shares at once");
    }

    @Test
    void activationsTooLargeToCountAreRefusedNotWrappedAround() {
        TrainerConfig huge = cfg(OptimizerSpec.sgd(0.1)).toBuilder().batchSize(Integer.MAX_VALUE).build();
        assertThrows(IllegalStateException.class, () -> MemoryPreflight.check(
                new SparkConf().set("spark.master", "local[8]"), huge, 1_000, 8, GIB, 200_000_000, 8));
    }
}
