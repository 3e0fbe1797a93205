package io.sparkgrad.spark.train;

import org.apache.spark.SparkConf;

import java.util.Locale;

/**
 * Before the first step, checks that the model's buffers fit the JVMs that must hold them, and
 * refuses, naming the setting to change, a configuration that would otherwise die of an
 * {@code OutOfMemoryError} minutes or hours into a run (or hit Spark's 2 GiB block limit).
 *
 * <h2>What the driver holds, in floats per parameter</h2>
 * The model's parameters and their gradients (2), the optimizer's state (Adam and AdamW: 2, SGD
 * with momentum: 1, plain SGD or averaging: 0), the flat parameter buffer the step broadcasts and
 * its serialized pieces (2), and the sums of the step's results ({@link GradientAggregator} keeps at
 * most one buffer per level of its fixed binary tree: {@code 1 + log2(results at the driver)}).
 * The data never reaches the driver. On {@code local[N]} the executors' tasks run in the driver's
 * JVM too, each holding a replica with its gradients, its result and the result's serialized form
 * (4 per concurrent task). The estimate is rounded up by a quarter for the JVM's own headroom.
 *
 * <h2>What an executor holds</h2>
 * Per concurrent task (cores / {@code spark.task.cpus}), the same 4 floats per parameter and the
 * broadcast parameters once per JVM (1), against {@code spark.executor.memory} minus Spark's
 * reserved 300 MiB. The executors' data (cached Arrow chunks, decoded partitions) is left out:
 * Spark spills cached blocks to disk and the decoded-partition cache has a budget of its own.
 */
final class MemoryPreflight {
    /** Spark's RESERVED_SYSTEM_MEMORY_BYTES, which no task can use. */
    private static final long SPARK_RESERVED = 300L << 20;
    /** Spark's block limit: one serialized block (a task result, a broadcast piece set) is at most a byte array. */
    static final long MAX_BLOCK_BYTES = Integer.MAX_VALUE - 1024;

    private MemoryPreflight() {
    }

    /** Floats per parameter of optimizer state. */
    static int stateFloats(OptimizerSpec spec) {
        switch (spec.kind()) {
            case ADAM:
            case ADAMW:
                return 2;
            default:
                return spec.momentum() > 0 ? 1 : 0;
        }
    }

    /** Estimated bytes of driver heap a run needs (see the class comment). */
    static long driverBytes(long parameters, OptimizerSpec optimizer, int resultsAtDriver, int localTasks) {
        int treeLevels = 1 + (32 - Integer.numberOfLeadingZeros(Math.max(1, resultsAtDriver) - 1));
        long floats = parameters * (2 + stateFloats(optimizer) + 2 + treeLevels + 4L * localTasks);
        return 4 * floats + (4 * floats >> 2);
    }

    /** Estimated bytes of executor heap the tasks of one executor need for the model alone. */
    static long executorBytes(long parameters, int tasksPerExecutor) {
        long floats = parameters * (1 + 4L * tasksPerExecutor);
        return 4 * floats + (4 * floats >> 2);
    }

    /**
     * @param driverHeap  this JVM's maximum heap ({@code Runtime.maxMemory()})
     * @param optimizer   the optimizer the driver runs (the outer one with local steps)
     * @throws IllegalStateException when the model cannot fit, naming the setting to change
     */
    static void check(SparkConf conf, long parameters, OptimizerSpec optimizer, int resultsAtDriver,
            long driverHeap) {
        long bufferBytes = 4 * parameters;
        if (bufferBytes > MAX_BLOCK_BYTES) {
            throw new IllegalStateException(String.format(Locale.ROOT, "the model has %,d parameters: its flat "
                    + "gradient buffer of %s is over Spark's 2 GiB limit for one block (a task result or a broadcast), "
                    + "which no setting raises; use a model of at most %,d parameters", parameters, gib(bufferBytes),
                    MAX_BLOCK_BYTES / 4));
        }
        String master = conf.get("spark.master", "");
        int localTasks = master.startsWith("local") ? localThreads(master) : 0;
        long needDriver = driverBytes(parameters, optimizer, resultsAtDriver, localTasks);
        if (needDriver > driverHeap) {
            throw new IllegalStateException(String.format(Locale.ROOT, "a model of %,d parameters with %s needs about "
                    + "%s of driver heap (parameters, gradients, optimizer state, the broadcast and the step's sums%s), "
                    + "but the driver JVM has %s: raise spark.driver.memory (or -Xmx for a driver started with java, or "
                    + "spark-submit's --driver-memory) to at least %s, or train a smaller model%s",
                    parameters, optimizer.name(), gib(needDriver),
                    localTasks > 0 ? ", and on " + master + " the replicas of " + localTasks + " concurrent tasks" : "",
                    gib(driverHeap), gib(needDriver + (needDriver >> 3)),
                    localTasks > 1 ? " or use fewer local threads (" + master + ")" : ""));
        }
        if (localTasks == 0 && conf.contains("spark.executor.memory")) {
            long executorHeap = conf.getSizeAsBytes("spark.executor.memory") - SPARK_RESERVED;
            int cores = conf.getInt("spark.executor.cores", 1);
            int tasks = Math.max(1, cores / Math.max(1, conf.getInt("spark.task.cpus", 1)));
            long needExecutor = executorBytes(parameters, tasks);
            if (needExecutor > executorHeap) {
                throw new IllegalStateException(String.format(Locale.ROOT, "a model of %,d parameters needs about %s "
                        + "of executor heap for the replicas of %d concurrent task(s), but spark.executor.memory=%s "
                        + "leaves %s after Spark's reserved 300 MiB: raise spark.executor.memory to at least %s, or run "
                        + "fewer tasks per executor (spark.executor.cores / spark.task.cpus)", parameters,
                        gib(needExecutor), tasks, conf.get("spark.executor.memory"), gib(executorHeap),
                        gib(needExecutor + SPARK_RESERVED + (needExecutor >> 3))));
            }
        }
    }

    /** N of {@code local[N]} / {@code local[N,F]}, the cores for {@code local[*]}, 1 for {@code local}. */
    static int localThreads(String master) {
        int open = master.indexOf('[');
        if (open < 0) {
            return 1;
        }
        String inside = master.substring(open + 1, master.indexOf(']', open));
        String threads = inside.split(",")[0].trim();
        return threads.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(threads);
    }

    private static String gib(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", (bytes + (1L << 20) - 1) >> 20);
    }
}
