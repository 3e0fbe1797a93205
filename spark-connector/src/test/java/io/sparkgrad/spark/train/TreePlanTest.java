package io.sparkgrad.spark.train;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TreePlanTest {
    private static TrainerConfig cfg(int depth) {
        return TrainerConfig.builder().model(SparkTestSupport.mlp(2, 2, 2)).numClasses(2).treeDepth(depth).build();
    }

    @Test
    void depthOneKeepsPartitionOrderAndSendsEveryResultToTheDriver() {
        TreePlan p = TreePlan.of(1, false, 5);
        for (int i = 0; i < 5; i++) {
            assertEquals(i, p.leafOf(i));
        }
        assertEquals(5, p.resultsAtDriver());
    }

    @Test
    void deeperTreesNumberEachReducersPartitionsContiguously() {
        int partitions = 20;
        TreePlan p = TreePlan.of(2, false, partitions);
        // Spark: scale = ceil(sqrt(20)) = 5; 20 > 5 + 4, so one level of 20 / 5 = 4 reducers, partition i to i % 4.
        assertEquals(4, p.resultsAtDriver());
        Set<Integer> leaves = new HashSet<>();
        for (int reducer = 0; reducer < 4; reducer++) {
            int min = Integer.MAX_VALUE;
            int max = Integer.MIN_VALUE;
            for (int i = reducer; i < partitions; i += 4) {
                min = Math.min(min, p.leafOf(i));
                max = Math.max(max, p.leafOf(i));
                leaves.add(p.leafOf(i));
            }
            assertEquals(4, max - min, "reducer " + reducer + "'s five partitions hold consecutive leaves");
        }
        assertEquals(partitions, leaves.size(), "a permutation");
        assertEquals(1, TreePlan.of(2, true, partitions).resultsAtDriver());
    }

    @Test
    void theDefaultIsDepthOneForFewPartitionsOrSmallResults() {
        TrainerConfig auto = cfg(0);
        TreePlan few = TreePlan.choose(auto, 2, 4L * 235_000, 1L << 30);
        assertEquals(1, few.depth());
        assertFalse(few.finalAggregateOnExecutor());
        assertEquals(1, TreePlan.choose(auto, 64, 4L * 1000, 1L << 30).depth(), "small results");
        TreePlan many = TreePlan.choose(auto, 64, 4L << 20, 1L << 30);
        assertEquals(2, many.depth(), "64 results of 4 MiB");
        assertFalse(many.finalAggregateOnExecutor());
        assertTrue(TreePlan.choose(auto, 64, 64L << 20, 256L << 20).finalAggregateOnExecutor(),
                "when even depth 2 does not fit maxResultSize");
        assertEquals(3, TreePlan.choose(cfg(3), 2, 8, 0).depth(), "an explicit depth wins");
    }

    @Test
    void resultsOverTheDriverLimitFailBeforeTheFirstStepNamingTheSetting() {
        SparkConf conf = new SparkConf(false).set("spark.driver.maxResultSize", "10m");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> TreePlan.of(1, false, 4).checkLimits(conf, 4L << 20, 1 << 20));
        assertTrue(e.getMessage().contains("spark.driver.maxResultSize"), e.getMessage());
        TreePlan.of(2, true, 4).checkLimits(conf, 4L << 20, 1 << 20);

        SparkConf kryo = new SparkConf(false).set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryoserializer.buffer.max", "8m");
        IllegalStateException k = assertThrows(IllegalStateException.class,
                () -> TreePlan.of(1, false, 1).checkLimits(kryo, 40L << 20, 10 << 20));
        assertTrue(k.getMessage().contains("spark.kryoserializer.buffer.max"), k.getMessage());
    }
}
