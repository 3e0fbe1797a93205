package io.sparkgrad.spark.train;

import io.sparkgrad.nn.Module;

import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;

/**
 * Everything {@link DistributedTrainer} needs to know besides the data: an immutable,
 * serializable value built with {@link #builder()}.
 *
 * <pre>{@code
 * TrainerConfig cfg = TrainerConfig.builder()
 *         .model(() -> new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10)))
 *         .numClasses(10)                       // 0 for regression (MSE)
 *         .optimizer(OptimizerSpec.adam(1e-3))
 *         .batchSize(256).maxEpochs(5).seed(42)
 *         .featuresCol("features").labelCol("label")
 *         .validationFraction(0.1).earlyStoppingPatience(2)
 *         .checkpointDir("hdfs:///tmp/run1").checkpointInterval(100)
 *         .build();
 * TrainingResult r = DistributedTrainer.fit(df, cfg);
 * }</pre>
 *
 * <h2>Steps, batches and local steps</h2>
 * One <em>step</em> is one synchronisation with the driver (one Spark job). An epoch has
 * {@code ceil(rows / batchSize)} mini-batches; every partition takes its proportional share of
 * each mini-batch from its own rows, shuffled per epoch by a function of the seed, the epoch and
 * the partition alone.
 * <ul>
 *   <li>{@code localSteps = 0} (the default): the trainer picks K, 1 for big models, more for small
 *       ones, so that Spark's per-job overhead stays under about 20% of the time
 *       ({@link TrainingResult#localSteps()} says which K it used).</li>
 *   <li>{@code localSteps = 1} (synchronous data parallelism): a step computes the gradient of
 *       the mean loss over one global mini-batch on all partitions, and the driver's
 *       {@link #optimizer()} applies it; the result equals a single-process step over the same
 *       rows, whatever the partitioning.</li>
 *   <li>{@code localSteps = K > 1}: each partition trains a replica of the model for K of its
 *       mini-batch shares with its own fresh {@link #optimizer()}, and the driver hands the
 *       row-weighted mean of the parameter changes, {@code θ - mean(θ_p)}, to the
 *       {@link #outerOptimizer()} as its gradient ({@link OptimizerSpec#averaging()} makes this
 *       plain model averaging; {@link OptimizerSpec#nesterovOuter()} is DiLoCo's Nesterov
 *       momentum). K times fewer synchronisations, at the price of replicas that drift apart for K
 *       steps: see {@link DistributedTrainer} for how this converges differently.</li>
 * </ul>
 */
public final class TrainerConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * {@code localSteps = 0}: the trainer chooses K from the model size, the batch size and the
     * partition count so that Spark's overhead stays under about 20% of a step, as
     * {@link DistributedTrainer} explains; K = 1 (synchronous SGD) for models big enough.
     */
    public static final int AUTO_LOCAL_STEPS = 0;

    /** Local steps per synchronisation when none is set: {@link #AUTO_LOCAL_STEPS}. */
    public static final int DEFAULT_LOCAL_STEPS = AUTO_LOCAL_STEPS;

    /**
     * How long one step (or one validation pass) may take before the trainer gives up on it: 30
     * minutes. That is far beyond any healthy step (tens of milliseconds to minutes for big models
     * on big partitions, including Spark's retries of tasks lost with an executor), and short enough
     * that a hung task does not hold a cluster for a night.
     */
    public static final Duration DEFAULT_STEP_TIMEOUT = Duration.ofMinutes(30);

    private final SerializableSupplier<? extends Module> model;
    private final LossFunction loss;
    private final int numClasses;
    private final OptimizerSpec optimizer;
    private final LrSchedule lrSchedule;
    private final int batchSize;
    private final int maxEpochs;
    private final long maxSteps;
    private final long seed;
    private final int localSteps;
    private final OptimizerSpec outerOptimizer;
    private final String checkpointDir;
    private final int checkpointInterval;
    private final int keepCheckpoints;
    private final Duration stepTimeout;
    private final double validationFraction;
    private final int earlyStoppingPatience;
    private final HandleInvalid handleInvalid;
    private final String featuresCol;
    private final String[] featureCols;
    private final String labelCol;
    private final String weightCol;
    private final int[] inputShape;
    private final int numPartitions;
    private final int treeDepth;
    private final boolean finalAggregateOnExecutor;
    private final int threadsPerTask;
    /** Where each executor trains: cpu, opencl (the executor picks one of its devices) or opencl:N. */
    private final String device;

    private TrainerConfig(Builder b) {
        this.model = b.model;
        this.numClasses = b.numClasses;
        this.loss = b.loss != null ? b.loss : (b.numClasses >= 2 ? LossFunction.CROSS_ENTROPY : LossFunction.MSE);
        this.optimizer = b.optimizer;
        this.lrSchedule = b.lrSchedule;
        this.batchSize = b.batchSize;
        this.maxEpochs = b.maxEpochs;
        this.maxSteps = b.maxSteps;
        this.seed = b.seed;
        this.localSteps = b.localSteps;
        this.outerOptimizer = b.outerOptimizer;
        this.checkpointDir = b.checkpointDir;
        this.checkpointInterval = b.checkpointInterval;
        this.keepCheckpoints = b.keepCheckpoints;
        this.stepTimeout = b.stepTimeout;
        this.validationFraction = b.validationFraction;
        this.earlyStoppingPatience = b.earlyStoppingPatience;
        this.handleInvalid = b.handleInvalid;
        this.featuresCol = b.featuresCol;
        this.featureCols = b.featureCols == null ? null : b.featureCols.clone();
        this.labelCol = b.labelCol;
        this.weightCol = b.weightCol;
        this.inputShape = b.inputShape == null ? null : b.inputShape.clone();
        this.numPartitions = b.numPartitions;
        this.treeDepth = b.treeDepth;
        this.finalAggregateOnExecutor = b.finalAggregateOnExecutor;
        this.threadsPerTask = b.threadsPerTask;
        this.device = b.device;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values, to derive a changed copy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.model = model;
        b.loss = loss;
        b.numClasses = numClasses;
        b.optimizer = optimizer;
        b.lrSchedule = lrSchedule;
        b.batchSize = batchSize;
        b.maxEpochs = maxEpochs;
        b.maxSteps = maxSteps;
        b.seed = seed;
        b.localSteps = localSteps;
        b.outerOptimizer = outerOptimizer;
        b.checkpointDir = checkpointDir;
        b.checkpointInterval = checkpointInterval;
        b.keepCheckpoints = keepCheckpoints;
        b.stepTimeout = stepTimeout;
        b.validationFraction = validationFraction;
        b.earlyStoppingPatience = earlyStoppingPatience;
        b.handleInvalid = handleInvalid;
        b.featuresCol = featuresCol;
        b.featureCols = featureCols == null ? null : featureCols.clone();
        b.labelCol = labelCol;
        b.weightCol = weightCol;
        b.inputShape = inputShape == null ? null : inputShape.clone();
        b.numPartitions = numPartitions;
        b.treeDepth = treeDepth;
        b.finalAggregateOnExecutor = finalAggregateOnExecutor;
        b.threadsPerTask = threadsPerTask;
        b.device = device;
        return b;
    }

    /** The serializable model factory: executors build their replicas with it, the driver its model. */
    public SerializableSupplier<? extends Module> model() {
        return model;
    }

    /** A new model from the factory (the caller seeds the generator first when the initial values matter). */
    public Module newModel() {
        Module m = model.get();
        if (m == null) {
            throw new IllegalStateException("the model factory returned null");
        }
        return m;
    }

    public LossFunction loss() {
        return loss;
    }

    /** The number of classes (at least 2) for {@link LossFunction#CROSS_ENTROPY}, 0 for regression. */
    public int numClasses() {
        return numClasses;
    }

    public boolean isClassification() {
        return loss == LossFunction.CROSS_ENTROPY;
    }

    /** The optimizer: on the driver when {@code localSteps = 1}, on each replica when greater. */
    public OptimizerSpec optimizer() {
        return optimizer;
    }

    public LrSchedule lrSchedule() {
        return lrSchedule;
    }

    /**
     * The learning rate of {@link #optimizer()} in epoch {@code epoch} (from 0) under
     * {@link #lrSchedule()}: the driver's optimizer uses it with {@code localSteps = 1}, the
     * replicas' inner optimizers with more (the outer optimizer keeps its own).
     */
    public double learningRate(int epoch) {
        if (lrSchedule == LrSchedule.COSINE) {
            return optimizer.lr() * (1 + Math.cos(Math.PI * epoch / maxEpochs)) / 2;
        }
        return optimizer.lr();
    }

    /** Rows per global mini-batch, over all partitions together. */
    public int batchSize() {
        return batchSize;
    }

    public int maxEpochs() {
        return maxEpochs;
    }

    /** Stop after this many steps (synchronisations) in all, counting those before a resume; 0: no limit. */
    public long maxSteps() {
        return maxSteps;
    }

    public long seed() {
        return seed;
    }

    /**
     * Mini-batches each partition trains its own replica for between synchronisations (1:
     * synchronous SGD; 0: {@link #AUTO_LOCAL_STEPS}, chosen by the trainer and reported in
     * {@link TrainingResult#localSteps()}).
     */
    public int localSteps() {
        return localSteps;
    }

    /** The driver-side optimizer of the averaged parameter change when {@code localSteps > 1}. */
    public OptimizerSpec outerOptimizer() {
        return outerOptimizer;
    }

    /** A Hadoop file system path (any scheme Hadoop knows) for checkpoints, or null for none. */
    public String checkpointDir() {
        return checkpointDir;
    }

    /** Steps between checkpoints; 0: one at the end of each epoch (and always one when training stops). */
    public int checkpointInterval() {
        return checkpointInterval;
    }

    /**
     * How many of the newest checkpoints to keep (older ones are deleted after a new one is in
     * place); at least 2, so that a damaged newest checkpoint has a previous one to fall back to.
     */
    public int keepCheckpoints() {
        return keepCheckpoints;
    }

    /**
     * The longest one step's Spark jobs (or one validation pass) may run; then they are cancelled,
     * their tasks interrupted, and the fit fails with a {@link StepTimeoutException} naming the step
     * and this setting, instead of waiting forever on a task that never returns. The last checkpoint
     * is left intact, so a new fit resumes from it. {@link Duration#ZERO}: no limit. Default
     * {@link #DEFAULT_STEP_TIMEOUT}.
     */
    public Duration stepTimeout() {
        return stepTimeout;
    }

    /** The share of the training rows held out for validation (0: none, or a validation DataFrame). */
    public double validationFraction() {
        return validationFraction;
    }

    /** Stop after this many epochs without a better validation loss, keeping the best parameters; 0: never. */
    public int earlyStoppingPatience() {
        return earlyStoppingPatience;
    }

    public HandleInvalid handleInvalid() {
        return handleInvalid;
    }

    /** The features column (an ML {@code Vector} or an {@code array<float|double>}), unless {@link #featureCols()} is set. */
    public String featuresCol() {
        return featuresCol;
    }

    /** Several numeric columns making the feature vector in this order, or null to use {@link #featuresCol()}. */
    public String[] featureCols() {
        return featureCols == null ? null : featureCols.clone();
    }

    public String labelCol() {
        return labelCol;
    }

    /** A numeric column of non-negative row weights, or null for equal weights. */
    public String weightCol() {
        return weightCol;
    }

    /** The shape of one example as the model wants it (e.g. {@code {1, 28, 28}}), or null for a flat vector. */
    public int[] inputShape() {
        return inputShape == null ? null : inputShape.clone();
    }

    /** Partitions to repartition the training data into before converting it; 0: keep the DataFrame's. */
    public int numPartitions() {
        return numPartitions;
    }

    /** {@code treeAggregate}'s depth; 0: chosen from the partition count and gradient size. */
    public int treeDepth() {
        return treeDepth;
    }

    /** Whether the last merge of a tree deeper than 1 runs on an executor (ignored when {@link #treeDepth()} is 0). */
    public boolean finalAggregateOnExecutor() {
        return finalAggregateOnExecutor;
    }

    /** Engine threads per task; 0: {@code spark.task.cpus}. */
    public int threadsPerTask() {
        return threadsPerTask;
    }

    /** The device setting: {@code cpu}, {@code opencl} (each executor picks one of its OpenCL devices) or {@code opencl:N}. */
    public String device() {
        return device;
    }

    @Override
    public String toString() {
        return "TrainerConfig(loss=" + loss + ", numClasses=" + numClasses + ", optimizer=" + optimizer
                + (lrSchedule != LrSchedule.CONSTANT ? ", lrSchedule=" + lrSchedule : "") + ", batchSize=" + batchSize + ", maxEpochs=" + maxEpochs + ", maxSteps=" + maxSteps + ", seed=" + seed
                + ", localSteps=" + (localSteps == AUTO_LOCAL_STEPS ? "auto" : Integer.toString(localSteps))
                + (localSteps != 1 ? ", outerOptimizer=" + outerOptimizer : "")
                + ", checkpointDir=" + checkpointDir + ", checkpointInterval=" + checkpointInterval
                + ", stepTimeout=" + stepTimeout
                + ", validationFraction=" + validationFraction + ", earlyStoppingPatience=" + earlyStoppingPatience
                + ", handleInvalid=" + handleInvalid.sparkName()
                + ", features=" + (featureCols != null ? Arrays.toString(featureCols) : featuresCol)
                + ", labelCol=" + labelCol + ", weightCol=" + weightCol
                + (inputShape != null ? ", inputShape=" + Arrays.toString(inputShape) : "")
                + ", numPartitions=" + numPartitions + ", treeDepth=" + treeDepth
                + (!"cpu".equals(device) ? ", device=" + device : "") + ")";
    }

    /** Builds a {@link TrainerConfig}; {@link #model} and {@link #numClasses} are required. */
    public static final class Builder {
        private SerializableSupplier<? extends Module> model;
        private LossFunction loss;
        private int numClasses = -1;
        private OptimizerSpec optimizer = OptimizerSpec.adam(1e-3);
        private LrSchedule lrSchedule = LrSchedule.CONSTANT;
        private int batchSize = 128;
        private int maxEpochs = 10;
        private long maxSteps;
        private long seed;
        private int localSteps = DEFAULT_LOCAL_STEPS;
        private OptimizerSpec outerOptimizer = OptimizerSpec.averaging();
        private String checkpointDir;
        private int checkpointInterval;
        private int keepCheckpoints = CheckpointStore.MIN_KEEP;
        private Duration stepTimeout = DEFAULT_STEP_TIMEOUT;
        private double validationFraction;
        private int earlyStoppingPatience;
        private HandleInvalid handleInvalid = HandleInvalid.ERROR;
        private String featuresCol = "features";
        private String[] featureCols;
        private String labelCol = "label";
        private String weightCol;
        private int[] inputShape;
        private int numPartitions;
        private int treeDepth;
        private boolean finalAggregateOnExecutor;
        private int threadsPerTask;
        private String device = "cpu";

        private Builder() {
        }

        public Builder model(SerializableSupplier<? extends Module> factory) {
            this.model = Objects.requireNonNull(factory, "model factory");
            return this;
        }

        /** At least 2 for classification (cross-entropy), 0 for regression (MSE). */
        public Builder numClasses(int n) {
            this.numClasses = n;
            return this;
        }

        /** Overrides the loss chosen from {@link #numClasses}. */
        public Builder loss(LossFunction value) {
            this.loss = Objects.requireNonNull(value, "loss");
            return this;
        }

        public Builder optimizer(OptimizerSpec value) {
            this.optimizer = Objects.requireNonNull(value, "optimizer");
            return this;
        }

        public Builder lrSchedule(LrSchedule value) {
            this.lrSchedule = Objects.requireNonNull(value, "lrSchedule");
            return this;
        }

        public Builder batchSize(int value) {
            this.batchSize = value;
            return this;
        }

        public Builder maxEpochs(int value) {
            this.maxEpochs = value;
            return this;
        }

        public Builder maxSteps(long value) {
            this.maxSteps = value;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** K mini-batches per synchronisation; 1 for synchronous SGD, 0 (the default) to let the trainer choose. */
        public Builder localSteps(int value) {
            this.localSteps = value;
            return this;
        }

        public Builder outerOptimizer(OptimizerSpec value) {
            this.outerOptimizer = Objects.requireNonNull(value, "outer optimizer");
            return this;
        }

        public Builder checkpointDir(String value) {
            this.checkpointDir = value;
            return this;
        }

        public Builder checkpointInterval(int value) {
            this.checkpointInterval = value;
            return this;
        }

        public Builder keepCheckpoints(int value) {
            this.keepCheckpoints = value;
            return this;
        }

        /** See {@link TrainerConfig#stepTimeout()}; {@link Duration#ZERO} for no limit. */
        public Builder stepTimeout(Duration value) {
            this.stepTimeout = Objects.requireNonNull(value, "stepTimeout");
            return this;
        }

        public Builder validationFraction(double value) {
            this.validationFraction = value;
            return this;
        }

        public Builder earlyStoppingPatience(int value) {
            this.earlyStoppingPatience = value;
            return this;
        }

        public Builder handleInvalid(HandleInvalid value) {
            this.handleInvalid = Objects.requireNonNull(value, "handleInvalid");
            return this;
        }

        /** {@code "error"} or {@code "skip"}. */
        public Builder handleInvalid(String value) {
            return handleInvalid(HandleInvalid.parse(value));
        }

        public Builder featuresCol(String value) {
            this.featuresCol = Objects.requireNonNull(value, "featuresCol");
            this.featureCols = null;
            return this;
        }

        /** Several numeric columns, in order, as the feature vector (instead of one features column). */
        public Builder featureCols(String... columns) {
            this.featureCols = columns == null ? null : columns.clone();
            return this;
        }

        public Builder labelCol(String value) {
            this.labelCol = Objects.requireNonNull(value, "labelCol");
            return this;
        }

        /** A weight column, or null (or empty) for none. */
        public Builder weightCol(String value) {
            this.weightCol = value == null || value.isEmpty() ? null : value;
            return this;
        }

        public Builder inputShape(int... shape) {
            this.inputShape = shape == null || shape.length == 0 ? null : shape.clone();
            return this;
        }

        public Builder numPartitions(int value) {
            this.numPartitions = value;
            return this;
        }

        /** 0 (the default) chooses depth and {@code finalAggregateOnExecutor} from the sizes. */
        public Builder treeDepth(int value) {
            this.treeDepth = value;
            return this;
        }

        public Builder finalAggregateOnExecutor(boolean value) {
            this.finalAggregateOnExecutor = value;
            return this;
        }

        public Builder threadsPerTask(int value) {
            this.threadsPerTask = value;
            return this;
        }

        /** {@code cpu} (the default), {@code opencl} (each executor picks one of its OpenCL devices) or {@code opencl:N}. */
        public Builder device(String value) {
            this.device = value;
            return this;
        }

        /** Checks every value and their combinations; the message names the setting. */
        public TrainerConfig build() {
            if (model == null) {
                throw new IllegalArgumentException("model: a model factory is required");
            }
            if (numClasses == -1) {
                throw new IllegalArgumentException("numClasses: set the number of classes (>= 2), or 0 for regression");
            }
            if (numClasses < 0 || numClasses == 1) {
                throw new IllegalArgumentException("numClasses must be >= 2 (classification) or 0 (regression), got "
                        + numClasses);
            }
            LossFunction effective = loss != null ? loss : (numClasses >= 2 ? LossFunction.CROSS_ENTROPY : LossFunction.MSE);
            if (effective == LossFunction.CROSS_ENTROPY && numClasses < 2) {
                throw new IllegalArgumentException("loss CROSS_ENTROPY needs numClasses >= 2");
            }
            if (effective == LossFunction.MSE && numClasses != 0) {
                throw new IllegalArgumentException("loss MSE is for regression: numClasses must be 0, got " + numClasses);
            }
            positive("batchSize", batchSize);
            positive("maxEpochs", maxEpochs);
            nonNegative("localSteps", localSteps);
            if (keepCheckpoints < CheckpointStore.MIN_KEEP) {
                throw new IllegalArgumentException("keepCheckpoints must be >= " + CheckpointStore.MIN_KEEP
                        + " (the newest checkpoint and the one to fall back to if it is damaged), got "
                        + keepCheckpoints);
            }
            if (stepTimeout.isNegative()) {
                throw new IllegalArgumentException("stepTimeout must be positive, or zero for no limit, got "
                        + stepTimeout);
            }
            nonNegative("maxSteps", maxSteps);
            nonNegative("checkpointInterval", checkpointInterval);
            nonNegative("earlyStoppingPatience", earlyStoppingPatience);
            nonNegative("numPartitions", numPartitions);
            nonNegative("treeDepth", treeDepth);
            nonNegative("threadsPerTask", threadsPerTask);
            ExecutorDevice.validate(device);
            if (!(validationFraction >= 0 && validationFraction < 1)) {
                throw new IllegalArgumentException("validationFraction must be in [0, 1), got " + validationFraction);
            }
            if (checkpointDir != null && checkpointDir.isEmpty()) {
                throw new IllegalArgumentException("checkpointDir is empty; leave it unset (null) for no checkpoints");
            }
            if (featureCols != null) {
                if (featureCols.length == 0) {
                    throw new IllegalArgumentException("featureCols: give at least one column");
                }
                for (String c : featureCols) {
                    if (c == null || c.isEmpty()) {
                        throw new IllegalArgumentException("featureCols: a column name is null or empty");
                    }
                }
            }
            if (inputShape != null) {
                for (int d : inputShape) {
                    if (d < 1) {
                        throw new IllegalArgumentException("inputShape " + Arrays.toString(inputShape)
                                + ": every dimension must be >= 1");
                    }
                }
            }
            return new TrainerConfig(this);
        }

        private static void positive(String name, long v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " must be >= 1, got " + v);
            }
        }

        private static void nonNegative(String name, long v) {
            if (v < 0) {
                throw new IllegalArgumentException(name + " must be >= 0, got " + v);
            }
        }
    }
}
