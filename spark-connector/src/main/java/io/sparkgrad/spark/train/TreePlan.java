package io.sparkgrad.spark.train;

import org.apache.spark.SparkConf;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * How a step's partition results are summed: {@code treeAggregate}'s depth and
 * {@code finalAggregateOnExecutor}, each partition's leaf position for {@link GradientAggregator},
 * and the check that the results fit the driver's and the serializer's limits.
 *
 * <h2>Choosing the depth (measured, see SPARK-NOTES "What one synchronisation costs")</h2>
 * On {@code local[2]} with 2 partitions and a 235k-float gradient, a step with no compute took
 * ~29 ms at depth 1, ~57 ms at depth 2 and ~100 ms with {@code finalAggregateOnExecutor}: each
 * extra level is a shuffle stage costing tens of milliseconds, while merging on the driver costs
 * about one pass over the bytes received. A level pays only when it saves the driver more than
 * that, i.e. when many results of some size arrive: depth 2 is chosen for more than 4 partitions
 * whose results add up to more than 32 MiB (at roughly 1 GB/s of deserialize-and-add, ~30 ms of
 * driver time, the cost of a stage), and the executor-side final merge only when even the
 * depth-2 results would not fit in {@code spark.driver.maxResultSize}. An explicit
 * {@link TrainerConfig#treeDepth()} overrides all of this.
 *
 * <h2>Leaf positions</h2>
 * Spark's tree sends partition {@code i} to reducer {@code i mod c} at each level. Leaves are
 * numbered so that each reducer's partitions are contiguous, so their blocks combine early inside
 * the reducer rather than all at the driver; at depth 1 partition {@code i} is leaf {@code i}.
 */
public final class TreePlan implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final long DEEPER_TREE_BYTES = 32L << 20;

    private final int depth;
    private final boolean finalAggregateOnExecutor;
    private final int[] leafOf;
    private final int resultsAtDriver;

    private TreePlan(int depth, boolean finalAggregateOnExecutor, int partitions) {
        this.depth = depth;
        this.finalAggregateOnExecutor = finalAggregateOnExecutor;
        List<int[]> paths = new ArrayList<>();
        int reducers = partitions;
        int[] at = new int[partitions];
        for (int i = 0; i < partitions; i++) {
            at[i] = i;
        }
        int scale = Math.max((int) Math.ceil(Math.pow(partitions, 1.0 / depth)), 2);
        // The loop of Spark's RDD.treeAggregate, followed partition by partition.
        while (reducers > scale + Math.ceil((double) reducers / scale)) {
            reducers /= scale;
            int[] level = new int[partitions];
            for (int i = 0; i < partitions; i++) {
                at[i] = at[i] % reducers;
                level[i] = at[i];
            }
            paths.add(level);
        }
        this.resultsAtDriver = finalAggregateOnExecutor && reducers > 1 ? 1 : reducers;
        Integer[] byLeaf = new Integer[partitions];
        for (int i = 0; i < partitions; i++) {
            byLeaf[i] = i;
        }
        Comparator<Integer> order = (a, b) -> 0;
        for (int l = paths.size() - 1; l >= 0; l--) {
            int[] level = paths.get(l);
            order = order.thenComparingInt(i -> level[i]);
        }
        Arrays.sort(byLeaf, order.thenComparingInt(i -> i));
        this.leafOf = new int[partitions];
        for (int leaf = 0; leaf < partitions; leaf++) {
            leafOf[byLeaf[leaf]] = leaf;
        }
    }

    /** An explicit depth ({@code >= 1}). */
    public static TreePlan of(int depth, boolean finalAggregateOnExecutor, int partitions) {
        if (depth < 1) {
            throw new IllegalArgumentException("tree depth must be >= 1, got " + depth);
        }
        return new TreePlan(depth, finalAggregateOnExecutor, partitions);
    }

    /**
     * The configured depth, or the one chosen from the partition count, the result size in bytes
     * and {@code spark.driver.maxResultSize} ({@code maxResultBytes}, 0 for unlimited).
     */
    public static TreePlan choose(TrainerConfig cfg, int partitions, long resultBytes, long maxResultBytes) {
        if (cfg.treeDepth() > 0) {
            return of(cfg.treeDepth(), cfg.finalAggregateOnExecutor(), partitions);
        }
        if (partitions <= 4 || partitions * resultBytes <= DEEPER_TREE_BYTES) {
            return of(1, false, partitions);
        }
        TreePlan two = of(2, false, partitions);
        if (maxResultBytes > 0 && two.resultsAtDriver * resultBytes > maxResultBytes) {
            return of(2, true, partitions);
        }
        return two;
    }

    public int depth() {
        return depth;
    }

    public boolean finalAggregateOnExecutor() {
        return finalAggregateOnExecutor;
    }

    /** Partition {@code p}'s leaf position. */
    public int leafOf(int p) {
        return leafOf[p];
    }

    /** How many results reach the driver in one step. */
    public int resultsAtDriver() {
        return resultsAtDriver;
    }

    /**
     * Fails before the first step, naming the setting to change, when a step's results would not
     * fit: their total at the driver against {@code spark.driver.maxResultSize}, and one result (or
     * the broadcast parameters) against {@code spark.kryoserializer.buffer.max} when Kryo
     * serializes them.
     */
    public void checkLimits(SparkConf conf, long resultBytes, long parameterCount) {
        if (parameterCount > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("the model has " + parameterCount + " parameters; one flat float buffer "
                    + "holds at most " + (Integer.MAX_VALUE - 64));
        }
        long maxResult = conf.getSizeAsBytes("spark.driver.maxResultSize", "1g");
        long atDriver = resultsAtDriver * resultBytes;
        if (maxResult > 0 && atDriver > maxResult) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "a training step sends %d results of %s each to the driver (%s in all), over "
                            + "spark.driver.maxResultSize=%s: raise spark.driver.maxResultSize to at least %s, or set "
                            + "the trainer's treeDepth to 2 (or more) with finalAggregateOnExecutor=true",
                    resultsAtDriver, mib(resultBytes), mib(atDriver), mib(maxResult), mib(atDriver + (atDriver >> 3))));
        }
        long direct = conf.getSizeAsBytes("spark.task.maxDirectResultSize", "1m");
        if (resultBytes > direct) {
            LoggerFactory.getLogger(TreePlan.class).info("a step's result of {} is over spark.task.maxDirectResultSize={}, "
                    + "so each one takes an extra fetch through the block manager; raising that setting (it is capped "
                    + "by spark.rpc.message.maxSize) saves it", mib(resultBytes), mib(direct));
        }
        if (conf.get("spark.serializer", "").contains("KryoSerializer")) {
            long kryoMax = conf.getSizeAsBytes("spark.kryoserializer.buffer.max", "64m");
            if (resultBytes + 4096 > kryoMax) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                        "one gradient buffer is %s, over spark.kryoserializer.buffer.max=%s (Kryo must hold a whole "
                                + "result and the broadcast parameters): set spark.kryoserializer.buffer.max to at least "
                                + "%dm (at most 2047m)",
                        mib(resultBytes), mib(kryoMax), (resultBytes + (resultBytes >> 3) >> 20) + 1));
            }
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    @Override
    public String toString() {
        return "TreePlan(depth=" + depth + ", finalAggregateOnExecutor=" + finalAggregateOnExecutor
                + ", resultsAtDriver=" + resultsAtDriver + ")";
    }
}
