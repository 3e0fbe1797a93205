package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Conv2d;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.Sequential;
import org.apache.spark.SparkConf;

import java.util.Arrays;
import java.util.List;
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
 *
 * <h2>A step's activations</h2>
 * Each concurrent task also runs forward and backward over its share of the mini-batch,
 * {@code ceil(batchSize / partitions)} rows. {@link #activationFloats} estimates the values one
 * example keeps for the backward pass by running one zero example through the model on the driver,
 * without gradients: every output of a {@link Sequential}'s layers plus each {@link Conv2d}'s im2col
 * columns. Only a {@code Sequential} of the engine's own modules is run so; a model with a module of
 * the user's own is not (its forward may count calls, block or log), and gets no activation term. The backward pass holds a
 * gradient of each, so a task is counted at twice that per row. It is a lower bound: the
 * temporaries inside a layer (an activation's mask, a loss's softmax) and layers nested inside
 * non-sequential modules are not seen. When that one example does not fit the driver's heap at
 * all, the run is refused as well.
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
     * Floats one example keeps for the backward pass (see the class comment), estimated by running
     * one zero example of {@code exampleShape} through {@code model} without gradients, in
     * evaluation mode (every module's mode is restored after); 0 for a model that is not a
     * {@code Sequential} of the engine's own modules (it is not run), and when that forward fails for another
     * reason than memory, which the first step reports as before.
     *
     * @throws IllegalStateException when one example's forward pass does not fit this JVM's heap
     */
    static long activationFloats(Module model, int[] exampleShape) {
        int[] shape = new int[exampleShape.length + 1];
        shape[0] = 1;
        System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
        List<Module> modules = model.modules();
        boolean[] training = new boolean[modules.size()];
        for (int i = 0; i < training.length; i++) {
            training[i] = modules.get(i).isTraining();
        }
        if (!(model instanceof Sequential) || !modules.stream().allMatch(MemoryPreflight::isBuiltIn)) {
            // A module of the user's own may do anything in forward (count calls, block, log):
            // only the engine's own layers are run here, on the driver, outside any step.
            return 0;
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            model.eval();
            Tensor x = Tensor.zeros(shape);
            long floats = x.numel();
            for (Module layer : model.children()) {
                Tensor y = layer.forward(x);
                floats += y.numel();
                if (layer instanceof Conv2d && y.dim() == 4) {
                    Tensor w = ((Conv2d) layer).weight();
                    floats += (long) w.size(1) * w.size(2) * w.size(3) * y.size(2) * y.size(3);
                }
                x = y;
            }
            return floats;
        } catch (OutOfMemoryError e) {
            throw new IllegalStateException(String.format(Locale.ROOT, "the forward pass of one example of shape %s "
                    + "does not fit the driver's heap of %s, let alone a mini-batch: train a smaller model, or raise "
                    + "spark.driver.memory (or -Xmx)", Arrays.toString(exampleShape),
                    gib(Runtime.getRuntime().maxMemory())));
        } catch (RuntimeException e) {
            return 0;
        } finally {
            for (int i = 0; i < training.length; i++) { // parents first: each child then gets its own mode back
                modules.get(i).train(training[i]);
            }
        }
    }

    private static boolean isBuiltIn(Module m) {
        return m.getClass().getName().startsWith("io.sparkgrad.nn.");
    }

    /** Estimated bytes one task's share of the mini-batch needs for its activations and their gradients. */
    static long taskActivationBytes(long activationFloats, int rowsPerTask) {
        double bytes = 4.0 * 2 * activationFloats * rowsPerTask * 1.25;
        return bytes >= Long.MAX_VALUE / 4 ? Long.MAX_VALUE / 4 : (long) bytes;
    }

    /** {@link #check(SparkConf, TrainerConfig, long, int, long, long, int)} without the activations. */
    static void check(SparkConf conf, TrainerConfig cfg, long parameters, int resultsAtDriver, long driverHeap) {
        check(conf, cfg, parameters, resultsAtDriver, driverHeap, 0, 1);
    }

    /**
     * @param resultsAtDriver  how many step results reach the driver ({@link TreePlan#resultsAtDriver()})
     * @param driverHeap       this JVM's maximum heap ({@code Runtime.maxMemory()})
     * @param activationFloats {@link #activationFloats}, 0 when not known
     * @param partitions       the partitions a step's mini-batch is shared among
     * @throws IllegalStateException when the model cannot fit, naming the setting to change
     */
    static void check(SparkConf conf, TrainerConfig cfg, long parameters, int resultsAtDriver, long driverHeap,
            long activationFloats, int partitions) {
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
        int shares = Math.max(1, partitions);
        int rowsPerTask = (int) (((long) cfg.batchSize() + shares - 1) / shares);
        long perTask = taskActivationBytes(activationFloats, rowsPerTask);
        String activations = perTask == 0 ? "" : String.format(Locale.ROOT, "; each task's %d rows of the mini-batch "
                + "need about %s of activations and their gradients (%,d values per example)", rowsPerTask,
                gib(perTask), activationFloats);
        String smallerBatch = perTask == 0 ? "" : ", or a smaller batchSize";
        // Only as many tasks as there are partitions run at once, each on its share of the batch.
        long needDriver = saturatingAdd(driverBytes(parameters, driverStateFloats(cfg), resultsAtDriver, localTasks,
                replicaStateFloats(cfg)), saturatingTimes(perTask, Math.min(localTasks, shares)));
        if (needDriver > driverHeap) {
            throw new IllegalStateException(String.format(Locale.ROOT, "a model of %,d parameters with %s needs about "
                    + "%s of driver heap (parameters, gradients, optimizer state, the broadcast and the step's sums%s), "
                    + "but the driver JVM has %s: raise spark.driver.memory (or -Xmx for a driver started with java, or "
                    + "spark-submit's --driver-memory) to at least %s, or train a smaller model%s%s%s",
                    parameters, cfg.localSteps() == 1 ? optimizer.name()
                            : cfg.optimizer().name() + " (outer: " + cfg.outerOptimizer().name() + ")", gib(needDriver),
                    localTasks > 0 ? ", and on " + master + " the replicas of " + localTasks + " concurrent tasks" : "",
                    gib(driverHeap), gib(saturatingAdd(needDriver, needDriver >> 3)),
                    localTasks > 1 ? " or use fewer local threads (" + master + ")" : "",
                    localTasks > 0 ? smallerBatch : "", localTasks > 0 ? activations : ""));
        }
        if (localTasks == 0 && conf.contains("spark.executor.memory")) {
            long executorHeap = conf.getSizeAsBytes("spark.executor.memory") - SPARK_RESERVED;
            int cores = conf.getInt("spark.executor.cores", 1);
            int tasks = Math.max(1, cores / Math.max(1, conf.getInt("spark.task.cpus", 1)));
            long needExecutor = saturatingAdd(executorBytes(parameters, tasks, replicaStateFloats(cfg)),
                    saturatingTimes(perTask, Math.min(tasks, shares)));
            if (needExecutor > executorHeap) {
                throw new IllegalStateException(String.format(Locale.ROOT, "a model of %,d parameters needs about %s "
                        + "of executor heap for the replicas of %d concurrent task(s), but spark.executor.memory=%s "
                        + "leaves %s after Spark's reserved 300 MiB: raise spark.executor.memory to at least %s, or run "
                        + "fewer tasks per executor (spark.executor.cores / spark.task.cpus)%s%s", parameters,
                        gib(needExecutor), tasks, conf.get("spark.executor.memory"), gib(executorHeap),
                        gib(saturatingAdd(needExecutor, SPARK_RESERVED + (needExecutor >> 3))), smallerBatch, activations));
            }
        }
    }

    /** Byte counts too large to matter stay too large instead of wrapping into small ones. */
    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private static long saturatingTimes(long bytes, int times) {
        return times != 0 && bytes > Long.MAX_VALUE / times ? Long.MAX_VALUE : bytes * times;
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
