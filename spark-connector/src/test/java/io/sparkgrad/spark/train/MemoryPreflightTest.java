package io.sparkgrad.spark.train;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-flight memory check refuses, naming the setting, what cannot fit, and lets through what can. */
class MemoryPreflightTest {
    private static final long GIB = 1L << 30;

    @Test
    void theDriverEstimateCountsParametersGradientsStateBroadcastSumsAndLocalReplicas() {
        // 1M parameters, Adam, 2 results at the driver (2 tree levels), 2 local tasks:
        // 2 + 2 + 2 + 2 + 8 = 16 floats per parameter, plus a quarter.
        assertEquals(4L * 16 * 1_000_000 * 5 / 4, MemoryPreflight.driverBytes(1_000_000, OptimizerSpec.adam(1e-3), 2, 2));
        // Plain SGD on a cluster, 1 result: 2 + 0 + 2 + 1 = 5.
        assertEquals(4L * 5 * 1_000_000 * 5 / 4, MemoryPreflight.driverBytes(1_000_000, OptimizerSpec.sgd(0.1), 1, 0));
        assertEquals(1, MemoryPreflight.stateFloats(OptimizerSpec.sgd(0.1).withMomentum(0.9)));
        assertEquals(2, MemoryPreflight.localThreads("local[2]"));
        assertEquals(3, MemoryPreflight.localThreads("local[3,2]"));
        assertEquals(1, MemoryPreflight.localThreads("local"));
    }

    @Test
    void fiftyMillionParametersWithAdamOnLocal2NeedMoreThanAOneGibDriver() {
        SparkConf conf = new SparkConf().set("spark.master", "local[2]");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, 50_000_000, OptimizerSpec.adam(1e-3), 2, GIB));
        assertTrue(e.getMessage().startsWith("a model of 50,000,000 parameters with adam needs about 3.7 GiB of driver heap"),
                e.getMessage());
        assertTrue(e.getMessage().contains("raise spark.driver.memory") && e.getMessage().contains("at least 4.2 GiB")
                && e.getMessage().contains("local[2]"), e.getMessage());
        assertDoesNotThrow(() -> MemoryPreflight.check(conf, 50_000_000, OptimizerSpec.adam(1e-3), 2, 6 * GIB));
    }

    @Test
    void anExecutorTooSmallForTheReplicasIsRefusedNamingSparkExecutorMemory() {
        SparkConf conf = new SparkConf().set("spark.master", "spark://127.0.0.1:7077")
                .set("spark.executor.memory", "1g").set("spark.executor.cores", "4");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, 50_000_000, OptimizerSpec.sgd(0.1), 1, 8 * GIB));
        assertTrue(e.getMessage().contains("4 concurrent task(s)") && e.getMessage().contains("raise spark.executor.memory"),
                e.getMessage());
        assertDoesNotThrow(() -> MemoryPreflight.check(conf.set("spark.executor.memory", "8g"), 50_000_000,
                OptimizerSpec.sgd(0.1), 1, 8 * GIB));
    }

    @Test
    void aGradientOverSparksBlockLimitIsRefusedWhateverTheMemory() {
        SparkConf conf = new SparkConf().set("spark.master", "local[2]");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> MemoryPreflight.check(conf, 600_000_000, OptimizerSpec.sgd(0.1), 1, 1024 * GIB));
        assertTrue(e.getMessage().contains("over Spark's 2 GiB limit for one block"), e.getMessage());
    }
}
