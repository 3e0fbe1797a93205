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
 * its serialized pieces (2), the step's results as they arrive serialized (1 each) and their sums
 * ({@link GradientAggregator} keeps at most one buffer per level of its fixed binary tree:
 * {@code 1 + log2(results at the driver)}). The data never reaches the driver. On {@code local[N]}
 * the executors' tasks run in the driver's JVM too, each holding a replica with its gradients, its
 * result, the result's serialized form and the serializer's grown output buffer (5 per concurrent
 * task, plus the inner optimizer's state with local steps). Calibrated on a 50-million-parameter
 * MLP with Adam on {@code local[2]}: 20 floats per parameter estimated (4.7 GiB with the headroom
 * below), 4.6 GiB of heap measured live after GC. The estimate is
 * rounded up by a quarter for the JVM's own headroom. With {@code localSteps = 0} (chosen later,
 * from the data) the larger of the two optimizers' states is assumed on the driver.
 *
 * <h2>What an executor holds</h2>
 * Per concurrent task (cores / {@code spark.task.cpus}), the same 5 floats per parameter (and the
 * inner optimizer's state) and the broadcast parameters once per JVM (1), against {@code spark.executor.memory} minus Spark's
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

    /** Floats per parameter of the optimizer state on the driver. */
    static int driverStateFloats(TrainerConfig cfg) {
        switch (cfg.localSteps()) {
            case 1:
                return stateFloats(cfg.optimizer());
            case TrainerConfig.AUTO_LOCAL_STEPS:
                return Math.max(stateFloats(cfg.optimizer()), stateFloats(cfg.outerOptimizer()));
            default:
                return stateFloats(cfg.outerOptimizer());
        }
    }

    /** Floats per parameter of the inner optimizer state each replica holds (none for synchronous steps). */
    static int replicaStateFloats(TrainerConfig cfg) {
        return cfg.localSteps() == 1 ? 0 : stateFloats(cfg.optimizer());
    }

    /** Estimated bytes of driver heap a run needs (see the class comment). */
    static long driverBytes(long parameters, int driverStateFloats, int resultsAtDriver, int localTasks,
            int replicaStateFloats) {
        int treeLevels = 1 + (32 - Integer.numberOfLeadingZeros(Math.max(1, resultsAtDriver) - 1));
        long floats = parameters * (2 + driverStateFloats + 2 + Math.max(1, resultsAtDriver) + treeLevels
                + (long) localTasks * (5 + replicaStateFloats));
        return 4 * floats + (4 * floats >> 2);
    }

    /** Estimated bytes of executor heap the tasks of one executor need for the model alone. */
    static long executorBytes(long parameters, int tasksPerExecutor, int replicaStateFloats) {
        long floats = parameters * (1 + (long) tasksPerExecutor * (5 + replicaStateFloats));
        return 4 * floats + (4 * floats >> 2);
    }

    /**
     * @param resultsAtDriver how many step results reach the driver ({@link TreePlan#resultsAtDriver()})
     * @param driverHeap      this JVM's maximum heap ({@code Runtime.maxMemory()})
     * @throws IllegalStateException when the model cannot fit, naming the setting to change
     */
    static void check(SparkConf conf, TrainerConfig cfg, long parameters, int resultsAtDriver, long driverHeap) {
        long bufferBytes = 4 * parameters;
        if (bufferBytes > MAX_BLOCK_BYTES) {
            throw new IllegalStateException(String.format(Locale.ROOT, "the model has %,d parameters: its flat "
                    + "gradient buffer of %s is over Spark's 2 GiB limit for one block (a task result or a broadcast), "
                    + "which no setting raises; use a model of at most %,d parameters", parameters, gib(bufferBytes),
                    MAX_BLOCK_BYTES / 4));
        }
        String master = conf.get("spark.master", "");
        int localTasks = master.startsWith("local") ? localThreads(master) : 0;
        OptimizerSpec optimizer = cfg.localSteps() == 1 ? cfg.optimizer() : cfg.outerOptimizer();
        long needDriver = driverBytes(parameters, driverStateFloats(cfg), resultsAtDriver, localTasks,
                replicaStateFloats(cfg));
        if (needDriver > driverHeap) {
            throw new IllegalStateException(String.format(Locale.ROOT, "a model of %,d parameters with %s needs about "
                    + "%s of driver heap (parameters, gradients, optimizer state, the broadcast and the step's sums%s), "
                    + "but the driver JVM has %s: raise spark.driver.memory (or -Xmx for a driver started with java, or "
                    + "spark-submit's --driver-memory) to at least %s, or train a smaller model%s",
                    parameters, cfg.localSteps() == 1 ? optimizer.name()
                            : cfg.optimizer().name() + " (outer: " + cfg.outerOptimizer().name() + ")", gib(needDriver),
                    localTasks > 0 ? ", and on " + master + " the replicas of " + localTasks + " concurrent tasks" : "",
                    gib(driverHeap), gib(needDriver + (needDriver >> 3)),
                    localTasks > 1 ? " or use fewer local threads (" + master + ")" : ""));
        }
        if (localTasks == 0 && conf.contains("spark.executor.memory")) {
            long executorHeap = conf.getSizeAsBytes("spark.executor.memory") - SPARK_RESERVED;
            int cores = conf.getInt("spark.executor.cores", 1);
            int tasks = Math.max(1, cores / Math.max(1, conf.getInt("spark.task.cpus", 1)));
            long needExecutor = executorBytes(parameters, tasks, replicaStateFloats(cfg));
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
