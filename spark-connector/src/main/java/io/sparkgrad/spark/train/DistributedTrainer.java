package io.sparkgrad.spark.train;

import io.sparkgrad.Generator;
import io.sparkgrad.Sparkgrad;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.nn.Module;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.optim.StateDict;
import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.data.ConvertedData;
import io.sparkgrad.spark.data.DataLayout;
import io.sparkgrad.spark.data.DecodedCache;
import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Data-parallel training of an engine {@link Module} on a Spark {@code Dataset<Row>}.
 *
 * <pre>{@code
 * TrainingResult r = DistributedTrainer.fit(df, cfg);
 * TrainingResult r = new DistributedTrainer(cfg).onEpoch(s -> log.info(s.describe())).fit(train, validation);
 * Module trained = r.model();
 * }</pre>
 *
 * <h2>What a fit does</h2>
 * <ol>
 *   <li>Converts the training rows once into cached Arrow chunks ({@link ConvertedData}: checks
 *       every row, skips or rejects invalid ones, holds out the validation share). Steps never read
 *       a row again.</li>
 *   <li>Builds the model on the driver from the factory after seeding the engine's default
 *       generator with the seed (so the initial values are the seed's), and the optimizer over its
 *       parameters. The optimizer and its state live on the driver only. Before any Spark job, the
 *       pre-flight checks ({@link MemoryPreflight}) refuse a model, or a mini-batch share, that
 *       cannot fit the driver's or the executors' heap, naming the setting to change.</li>
 *   <li>Each step is one Spark job: the parameters go out as one flat {@code float[]} broadcast;
 *       each partition runs forward and backward over its share of the global mini-batch on a
 *       replica, accumulating into the replica's leaves' {@code .grad}
 *       ({@link StepTask}); {@code treeAggregate} sums the gradients, loss sums and row counts
 *       ({@link GradientAggregator}, in a fixed order so runs are bit-for-bit reproducible); the
 *       broadcast is destroyed; the driver divides by the step's row count (weight sum), steps the
 *       optimizer and zeroes the gradients. Jobs are described in the Spark UI as
 *       {@code sparkgrad epoch e/E step s/S}, followed from the second step of an epoch by
 *       {@code running loss L}, the epoch's mean loss over the steps done.</li>
 *   <li>After each epoch: validation (loss and accuracy or RMSE), a log line with loss, metric,
 *       rows/s and Spark's overhead share ({@link EpochStats}), early stopping, a checkpoint.</li>
 * </ol>
 *
 * <h2>Equivalence</h2>
 * With {@code localSteps = 1} a step equals, to float rounding, a single-process step of the same
 * optimizer on the same rows, for any number of partitions: the gradient of the summed loss over
 * the global mini-batch divided by its size is the gradient of the mean loss. (Layers whose forward
 * depends on the whole batch, such as BatchNorm in training mode, see only their partition's share;
 * their buffers are not synchronised; and a Dropout drawing from a shared generator is not
 * reproducible.)
 *
 * <h2>Local steps (K &gt; 1) and how they converge differently</h2>
 * Spark costs tens of milliseconds per synchronisation (scheduling, broadcast, aggregation), while
 * a small network computes a 128-row step in 1–2 ms; so synchronous training of small models is
 * mostly overhead. With {@code localSteps = K}, each partition trains its replica for K of its
 * mini-batch shares with its own fresh inner optimizer, and the driver applies the row-weighted
 * mean parameter change {@code Δ = θ − Σ W_p θ_p / Σ W_p} as the gradient of the
 * {@link TrainerConfig#outerOptimizer() outer optimizer} (local SGD / federated averaging with the
 * averaging outer optimizer {@code sgd(1.0)}; DiLoCo with Nesterov momentum). What changes:
 * <ul>
 *   <li>each inner step uses the partition's share of the batch, {@code batchSize / P} rows, so
 *       the gradient noise is that of the smaller batch, and there are K inner steps per
 *       synchronisation: per epoch the model takes about as many optimizer steps as synchronous
 *       training with batch {@code batchSize / P}, not {@code batchSize};</li>
 *   <li>replicas drift apart between synchronisations; averaging their parameters is not the same
 *       as averaging their gradients once K &gt; 1 (the loss is not linear), so progress per epoch
 *       is usually a little worse than with the small batch and gets worse with larger K and
 *       learning rates; with K = 1 and the averaging outer optimizer it reduces exactly to
 *       synchronous SGD of the inner learning rate;</li>
 *   <li>the inner optimizer's state (momentum, Adam's moments) starts afresh every round, since
 *       only parameters are synchronised: with Adam, the first steps of each round are
 *       bias-corrected sign-like steps; SGD with modest momentum or a K of a few tens behaves best;</li>
 *   <li>the outer optimizer carries state across rounds (Nesterov momentum on Δ, as DiLoCo), which
 *       can recover the progress lost to drift, and its learning rate scales the averaged update.</li>
 * </ul>
 */
public final class DistributedTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);
    /** v2: with a checksum of the contents ({@link CheckpointDigest}). */
    private static final String FORMAT = "sparkgrad.checkpoint.v2";

    private final TrainerConfig config;
    private Consumer<EpochStats> epochListener = s -> { };

    public DistributedTrainer(TrainerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** Trains on {@code train} as {@code config} says (validation from {@code config.validationFraction()}, if any). */
    public static TrainingResult fit(Dataset<Row> train, TrainerConfig config) {
        return new DistributedTrainer(config).fit(train);
    }

    /** Called on the driver after every epoch, after the epoch's log line. */
    public DistributedTrainer onEpoch(Consumer<EpochStats> listener) {
        this.epochListener = Objects.requireNonNull(listener, "listener");
        return this;
    }

    public TrainingResult fit(Dataset<Row> train) {
        return fit(train, (Dataset<Row>) null);
    }

    /**
     * Trains on {@code train}, validating after each epoch on {@code validation} (the same
     * columns; null for none, or for the configuration's validation fraction).
     *
     * @throws io.sparkgrad.spark.data.InvalidRowException for an invalid row with {@code handleInvalid = error}
     * @throws IllegalArgumentException for a missing or mistyped column, no usable rows, a model that does not fit the data
     * @throws IllegalStateException for Spark settings that cannot work (Kryo registration, result size limits),
     *                               or a checkpoint directory holding a different run
     * @throws StepTimeoutException  when a step's jobs run longer than {@link TrainerConfig#stepTimeout()}
     */
    public TrainingResult fit(Dataset<Row> train, Dataset<Row> validation) {
        Objects.requireNonNull(train, "train");
        TrainerConfig cfg = config;
        if (validation != null && cfg.validationFraction() > 0) {
            throw new IllegalArgumentException("give either a validation DataFrame or a validationFraction, not both");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(train.sparkSession().sparkContext());
        SparkConf conf = jsc.getConf();
        checkSerializer(conf);
        Dataset<Row> input = cfg.numPartitions() > 0 ? train.repartition(cfg.numPartitions()) : train;
        DataLayout layout = DataLayout.resolve(input, cfg.featuresCol(), cfg.featureCols(), cfg.labelCol(),
                cfg.numClasses(), cfg.weightCol(), cfg.handleInvalid() == HandleInvalid.SKIP);
        checkInputShape(cfg, layout.numFeatures());
        // Built before any Spark job: the pre-flight checks need its size, and a model that cannot
        // fit must be refused before the data is converted (hours, for big data).
        Module model = seededModel(cfg);
        int partitions = input.rdd().getNumPartitions();
        long activationFloats = MemoryPreflight.activationFloats(model,
                cfg.inputShape() != null ? cfg.inputShape() : new int[] {layout.numFeatures()});
        preflight(conf, cfg, new ParamLayout(model).size(), partitions, activationFloats);
        String previousDescription = jsc.getLocalProperty("spark.job.description");
        int previousThreads = Sparkgrad.threads();
        String runId = "sparkgrad-run-" + UUID.randomUUID();
        ConvertedData data = null;
        ConvertedData valData = null;
        try {
            jsc.setJobDescription("sparkgrad: converting the training data to Arrow");
            data = ConvertedData.convert(input, layout, validation == null ? cfg.validationFraction() : 0, cfg.seed(),
                    "training data");
            if (validation != null) {
                DataLayout vLayout = DataLayout.resolve(validation, cfg.featuresCol(), cfg.featureCols(),
                        cfg.labelCol(), cfg.numClasses(), cfg.weightCol(), cfg.handleInvalid() == HandleInvalid.SKIP);
                if (vLayout.numFeatures() != layout.numFeatures() || vLayout.source() != layout.source()) {
                    throw new IllegalArgumentException("the validation DataFrame's features (" + vLayout
                            + ") do not match the training data's (" + layout + ")");
                }
                jsc.setJobDescription("sparkgrad: converting the validation data to Arrow");
                valData = ConvertedData.convert(validation, layout, 0, cfg.seed(), "validation data");
            }
            return new Loop(cfg, jsc, layout, data, valData, runId, model).run();
        } finally {
            cleanUp(data, valData, runId);
            jsc.setJobDescription(previousDescription);
            Sparkgrad.setThreads(previousThreads);
        }
    }

    /** Drops decoded partitions and replicas on the executors and this JVM, then the cached chunks. */
    private static void cleanUp(ConvertedData data, ConvertedData valData, String runId) {
        List<String> ids = new ArrayList<>();
        for (ConvertedData d : Arrays.asList(data, valData)) {
            if (d != null) {
                ids.add(d.id());
            }
        }
        try {
            if (data != null) {
                data.blocks().foreachPartition(it -> {
                    ids.forEach(DecodedCache::remove);
                    ReplicaPool.remove(runId);
                });
            }
        } catch (Exception e) {
            LOG.warn("could not clear the executors' decoded data ({}); it is evicted as memory is needed", e.toString());
        } finally {
            ids.forEach(DecodedCache::remove);
            ReplicaPool.remove(runId);
            for (ConvertedData d : Arrays.asList(data, valData)) {
                if (d != null) {
                    d.blocks().unpersist(false);
                }
            }
        }
    }

    /**
     * Kryo with {@code registrationRequired} fails on the first unregistered class deep inside a
     * task; say which setting to add before any job runs.
     */
    static void checkSerializer(SparkConf conf) {
        if (!conf.get("spark.serializer", "").contains("KryoSerializer")) {
            return;
        }
        String registrators = conf.get("spark.kryo.registrator", "");
        boolean ours = Arrays.asList(registrators.split(",")).stream().map(String::trim)
                .anyMatch(SparkgradKryoRegistrator.class.getName()::equals);
        if (!ours && conf.getBoolean("spark.kryo.registrationRequired", false)) {
            throw new IllegalStateException("spark.kryo.registrationRequired=true but spark.kryo.registrator does not "
                    + "include " + SparkgradKryoRegistrator.class.getName() + " (it is \"" + registrators + "\"): add it, "
                    + "comma-separated, when the SparkSession is built");
        }
        if (!ours) {
            LOG.info("Kryo is used without {}; add it to spark.kryo.registrator to send class ids, not names",
                    SparkgradKryoRegistrator.class.getName());
        }
    }

    /**
     * A new model from the factory with the engine's default generator seeded first, so the initial
     * values are the seed's.
     *
     * @throws IllegalStateException when the model does not fit the driver's heap: the pre-flight
     *                               checks need the built model's size, so a model too large to build
     *                               is refused here, in their words, rather than as a bare heap error
     */
    private static Module seededModel(TrainerConfig cfg) {
        synchronized (Generator.defaultGenerator()) {
            Tensor.manualSeed(cfg.seed());
            try {
                return cfg.newModel();
            } catch (OutOfMemoryError e) {
                // One allocation failed; what the factory had built is garbage again, so the JVM goes on.
                throw new IllegalStateException(String.format(Locale.ROOT, "building the model ran out of driver heap "
                        + "(the driver JVM has %,d MiB): its parameters alone do not fit, let alone their gradients "
                        + "and the optimizer state; train a smaller model, or raise spark.driver.memory (or -Xmx for a "
                        + "driver started with java, or spark-submit's --driver-memory)",
                        Runtime.getRuntime().maxMemory() >> 20), e);
            }
        }
    }

    /**
     * Fails, naming the setting to change, when a step's results cannot reach the driver or the
     * model's buffers cannot fit the driver's or the executors' heap.
     */
    private static void preflight(SparkConf conf, TrainerConfig cfg, long parameters, int partitions,
            long activationFloats) {
        long resultBytes = 4L * parameters + 256;
        TreePlan plan = TreePlan.choose(cfg, partitions, resultBytes,
                conf.getSizeAsBytes("spark.driver.maxResultSize", "1g"));
        plan.checkLimits(conf, resultBytes, parameters);
        MemoryPreflight.check(conf, cfg, parameters, plan.resultsAtDriver(), Runtime.getRuntime().maxMemory(),
                activationFloats, partitions);
    }

    private static void checkInputShape(TrainerConfig cfg, int numFeatures) {
        int[] shape = cfg.inputShape();
        if (shape != null) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            if (n != numFeatures) {
                throw new IllegalArgumentException("inputShape " + Arrays.toString(shape) + " holds " + n
                        + " values, but the feature vector has " + numFeatures);
            }
        }
    }

    /** One fit's driver-side state and loop. */
    private final class Loop {
        private final TrainerConfig cfg;
        private final JavaSparkContext jsc;
        private final ConvertedData data;
        private final ConvertedData valData;
        private final Module model;
        private final ParamLayout params;
        private final Optimizer optimizer;
        private final TreePlan plan;
        private final TreePlan valPlan;
        private final StepTask.Run run;
        private final CheckpointStore store;
        private final StepWatchdog watchdog;
        private final int batchesPerEpoch;
        private final int roundsPerEpoch;
        private final int localSteps;
        private final String fingerprint;

        // Position and progress (what a checkpoint holds).
        private int epoch;
        private int round;
        private long step;
        private double epochLoss;
        private double epochWeight;
        private long epochRows;
        private double bestLoss = Double.POSITIVE_INFINITY;
        private int bestEpoch;
        private int badEpochs;
        private float[] bestParams;
        private boolean stoppedEarly;
        private boolean dirty;
        private long resumedFrom;

        Loop(TrainerConfig cfg, JavaSparkContext jsc, DataLayout layout, ConvertedData data, ConvertedData valData,
                String runId, Module model) {
            this.cfg = cfg;
            this.jsc = jsc;
            this.data = data;
            this.valData = valData;
            long rows = data.totalTrainRows();
            if (rows == 0) {
                throw new IllegalArgumentException("no training rows" + (data.skippedByReason().isEmpty() ? ""
                        : " left after skipping invalid ones " + data.skippedByReason())
                        + (cfg.validationFraction() > 0 ? " (validationFraction " + cfg.validationFraction() + ")" : ""));
            }
            this.batchesPerEpoch = (int) Math.min(Integer.MAX_VALUE, (rows + cfg.batchSize() - 1) / cfg.batchSize());
            this.model = model;
            model.train();
            this.params = new ParamLayout(model);
            // The same tree the pre-flight checked (the converted data keeps the input's partitions).
            this.plan = TreePlan.choose(cfg, data.numPartitions(), 4L * params.size() + 256,
                    jsc.getConf().getSizeAsBytes("spark.driver.maxResultSize", "1g"));
            this.valPlan = valData == null ? plan : TreePlan.of(1, false, valData.numPartitions());
            this.localSteps = cfg.localSteps() != TrainerConfig.AUTO_LOCAL_STEPS ? cfg.localSteps()
                    : LocalStepsPolicy.choose(params.size(), cfg.batchSize(), data.numPartitions(), batchesPerEpoch);
            this.roundsPerEpoch = (batchesPerEpoch + localSteps - 1) / localSteps;
            this.optimizer = (localSteps == 1 ? cfg.optimizer() : cfg.outerOptimizer()).create(params.params());
            this.run = new StepTask.Run(runId, data.id(), layout, cfg, plan, params.size(), batchesPerEpoch,
                    localSteps);
            this.fingerprint = "features=" + layout.numFeatures() + ";partitions=" + data.numPartitions() + ";rows="
                    + rows + ";hash=" + Long.toHexString(Arrays.hashCode(data.trainRows()));
            this.store = cfg.checkpointDir() == null ? null
                    : new CheckpointStore(cfg.checkpointDir(), jsc.hadoopConfiguration(), cfg.keepCheckpoints());
            LOG.info("sparkgrad: training {} rows ({} held out for validation{}) in {} partitions: {} parameters, "
                    + "{} mini-batches of {} per epoch, {} local step(s) per synchronisation{}, {}", rows,
                    valData != null ? valData.totalTrainRows() : data.totalValidationRows(),
                    valData != null ? ", from the validation DataFrame" : "", data.numPartitions(), params.size(),
                    batchesPerEpoch, cfg.batchSize(), localSteps,
                    cfg.localSteps() == TrainerConfig.AUTO_LOCAL_STEPS ? " (chosen: localSteps = auto)" : "", plan);
            // Last: it starts a timer thread, which run() stops.
            this.watchdog = new StepWatchdog(jsc.sc(), cfg.stepTimeout(), runId);
        }

        TrainingResult run() {
            try (StepWatchdog closing = watchdog) {
                return train();
            }
        }

        private TrainingResult train() {
            if (store != null) {
                restore();
            }
            List<EpochStats> history = new ArrayList<>();
            boolean budgetSpent = false;
            while (epoch < cfg.maxEpochs() && !stoppedEarly && !budgetSpent) {
                long epochStart = System.nanoTime();
                long rowsBefore = epochRows;
                if (localSteps == 1) {
                    double lr = cfg.learningRate(epoch);
                    optimizer.paramGroups().forEach(g -> g.setLr(lr));
                }
                double stepNanos = 0;
                double overheadNanos = 0;
                while (round < roundsPerEpoch) {
                    if (cfg.maxSteps() > 0 && step >= cfg.maxSteps()) {
                        budgetSpent = true;
                        break;
                    }
                    double[] timing = step();
                    stepNanos += timing[0];
                    overheadNanos += timing[1];
                    if (cfg.checkpointInterval() > 0 && step % cfg.checkpointInterval() == 0) {
                        checkpoint();
                    }
                }
                if (budgetSpent) {
                    break;
                }
                double trainSeconds = stepNanos / 1e9;
                double[] val = validate();
                int finished = epoch + 1;
                EpochStats stats = new EpochStats(finished, step, epochWeight > 0 ? epochLoss / epochWeight : Double.NaN,
                        val[0], val[1], cfg.isClassification() ? "accuracy" : "rmse", epochRows - rowsBefore,
                        trainSeconds > 0 ? (epochRows - rowsBefore) / trainSeconds : 0,
                        stepNanos > 0 ? overheadNanos / stepNanos : 0, (System.nanoTime() - epochStart) / 1e9);
                if (!Double.isNaN(val[0])) {
                    if (val[0] < bestLoss) {
                        bestLoss = val[0];
                        bestEpoch = finished;
                        badEpochs = 0;
                        if (cfg.earlyStoppingPatience() > 0) {
                            bestParams = params.flatten();
                        }
                    } else {
                        badEpochs++;
                        stoppedEarly = cfg.earlyStoppingPatience() > 0 && badEpochs >= cfg.earlyStoppingPatience();
                    }
                }
                epoch = finished;
                round = 0;
                epochLoss = 0;
                epochWeight = 0;
                epochRows = 0;
                dirty = true;
                history.add(stats);
                LOG.info("sparkgrad {}", stats.describe());
                epochListener.accept(stats);
                if (cfg.checkpointInterval() == 0) {
                    checkpoint();
                }
            }
            if (store != null && dirty) {
                checkpoint();
            }
            if (bestParams != null) {
                params.load(bestParams);
            }
            model.eval();
            Map<String, Long> skipped = new LinkedHashMap<>(data.skippedByReason());
            if (valData != null) {
                valData.skippedByReason().forEach((k, v) -> skipped.merge(k, v, Long::sum));
            }
            return new TrainingResult(model, history, skipped, data.totalTrainRows(),
                    valData != null ? valData.totalTrainRows() : data.totalValidationRows(), step, stoppedEarly,
                    bestEpoch, resumedFrom, run.layout.numFeatures(), localSteps);
        }

        /** One synchronisation; returns {step wall time, Spark overhead} in nanoseconds. */
        private double[] step() {
            long t0 = System.nanoTime();
            int first = round * localSteps;
            int batches = Math.min(localSteps, batchesPerEpoch - first);
            String description = String.format(Locale.ROOT, "sparkgrad epoch %d/%d step %d/%d (global step %d)",
                    epoch + 1, cfg.maxEpochs(), round + 1, roundsPerEpoch, step + 1);
            // The epoch's loss so far rides on the job description, where the Spark UI and progress
            // listeners (the jobs' progress bar) can show it while the epoch runs.
            jsc.setJobDescription(epochWeight > 0
                    ? description + String.format(Locale.ROOT, " running loss %.4f", epochLoss / epochWeight)
                    : description);
            Broadcast<float[]> bc = jsc.broadcast(params.flatten());
            GradientAggregator.Sums sums;
            try {
                sums = watchdog.run(description, () -> aggregate(data.blocks().mapPartitionsWithIndex(
                        new StepTask(run, bc, epoch, first, batches, cfg.learningRate(epoch)), true), plan));
            } finally {
                bc.destroy();
            }
            long t1 = System.nanoTime();
            if (sums.weight > 0 && sums.vector != null) {
                params.setGradients(sums.vector, 1.0 / sums.weight);
                optimizer.step();
                optimizer.zeroGrad();
            }
            long t2 = System.nanoTime();
            epochLoss += sums.loss;
            epochWeight += sums.weight;
            epochRows += sums.rows;
            round++;
            step++;
            dirty = true;
            long wall = t2 - t0;
            long overhead = Math.max(0, wall - computeSpan(sums) - (t2 - t1));
            return new double[] {wall, overhead};
        }

        /**
         * How long the step's tasks had to take, at least, on the cluster's task slots: the slowest
         * task, or all tasks' compute time spread over the slots when partitions outnumber them
         * (80 partitions on local[2] run 40 after one another, not side by side).
         */
        private long computeSpan(GradientAggregator.Sums sums) {
            int slots = Math.max(1, Math.min(data.numPartitions(), jsc.defaultParallelism()));
            return Math.max(sums.computeNanos, sums.totalComputeNanos / slots);
        }

        /** {validation loss, metric}, NaN without validation data. */
        private double[] validate() {
            ConvertedData ds = valData != null ? valData : data.totalValidationRows() > 0 ? data : null;
            if (ds == null) {
                return new double[] {Double.NaN, Double.NaN};
            }
            int kind = valData != null ? ArrowBlock.TRAIN : ArrowBlock.VALIDATION;
            String description = String.format(Locale.ROOT, "sparkgrad epoch %d/%d validation", epoch + 1,
                    cfg.maxEpochs());
            // The epoch's loss so far rides on the job description, where the Spark UI and progress
            // listeners (the jobs' progress bar) can show it while the epoch runs.
            jsc.setJobDescription(epochWeight > 0
                    ? description + String.format(Locale.ROOT, " running loss %.4f", epochLoss / epochWeight)
                    : description);
            Broadcast<float[]> bc = jsc.broadcast(params.flatten());
            GradientAggregator.Sums s;
            try {
                s = watchdog.run(description, () -> aggregate(ds.blocks().mapPartitionsWithIndex(
                        new EvalTask(run, ds.id(), kind, valPlan, bc), true), valPlan));
            } finally {
                bc.destroy();
            }
            if (!(s.weight > 0)) {
                return new double[] {Double.NaN, Double.NaN};
            }
            double metric = s.metric / s.weight;
            return new double[] {s.loss / s.weight, cfg.isClassification() ? metric : Math.sqrt(metric)};
        }

        private GradientAggregator.Sums aggregate(JavaRDD<GradientAggregator> leaves, TreePlan tree) {
            try {
                return leaves.treeAggregate(new GradientAggregator(), GradientAggregator::merge,
                        GradientAggregator::merge, tree.depth(), tree.finalAggregateOnExecutor()).finish();
            } catch (Exception e) {
                throw ConvertedData.unwrap(e);
            }
        }

        // ------------------------------------------------------------------ checkpoints

        private void checkpoint() {
            if (store == null) {
                return;
            }
            Map<String, Tensor> tensors = new TreeMap<>();
            model.stateDict().forEach((k, v) -> tensors.put("model." + k, v));
            StateDict osd = optimizer.stateDict();
            osd.tensors().forEach((k, v) -> tensors.put("optimizer." + k, v));
            if (bestParams != null) {
                tensors.put("best_parameters", Tensor.wrap(bestParams, bestParams.length));
            }
            Map<String, String> meta = new TreeMap<>();
            osd.metadata().forEach((k, v) -> meta.put("optimizer." + k, v));
            meta.put("format", "pt");
            meta.put("sparkgrad.format", FORMAT);
            meta.put("sparkgrad.step", Long.toString(step));
            meta.put("sparkgrad.epoch", Integer.toString(epoch));
            meta.put("sparkgrad.round", Integer.toString(round));
            meta.put("sparkgrad.seed", Long.toString(cfg.seed()));
            meta.put("sparkgrad.batchSize", Integer.toString(cfg.batchSize()));
            meta.put("sparkgrad.localSteps", Integer.toString(localSteps));
            meta.put("sparkgrad.data", fingerprint);
            meta.put("sparkgrad.epochLoss", Double.toString(epochLoss));
            meta.put("sparkgrad.epochWeight", Double.toString(epochWeight));
            meta.put("sparkgrad.epochRows", Long.toString(epochRows));
            meta.put("sparkgrad.bestLoss", Double.toString(bestLoss));
            meta.put("sparkgrad.bestEpoch", Integer.toString(bestEpoch));
            meta.put("sparkgrad.badEpochs", Integer.toString(badEpochs));
            meta.put("sparkgrad.stoppedEarly", Boolean.toString(stoppedEarly));
            jsc.setJobDescription(null);
            LOG.info("sparkgrad: checkpoint at step {} written to {}", step, store.save(step, tensors, meta));
            dirty = false;
        }

        private void restore() {
            CheckpointStore.Loaded loaded = store.latest();
            if (loaded == null) {
                return;
            }
            SafeTensors.Contents c = loaded.contents();
            Map<String, String> meta = c.metadata();
            if (!FORMAT.equals(meta.get("sparkgrad.format"))) {
                throw new IllegalStateException(loaded.path() + " is not a checkpoint of this version of the Sparkgrad "
                        + "trainer (sparkgrad.format is " + meta.get("sparkgrad.format") + ", expected " + FORMAT + ")");
            }
            expect(loaded, "sparkgrad.seed", Long.toString(cfg.seed()), "seed");
            expect(loaded, "sparkgrad.batchSize", Integer.toString(cfg.batchSize()), "batchSize");
            expect(loaded, "sparkgrad.localSteps", Integer.toString(localSteps), "localSteps");
            expect(loaded, "sparkgrad.data", fingerprint, "training data (row counts per partition)");
            Map<String, Tensor> state = new LinkedHashMap<>();
            c.tensors().forEach((k, v) -> {
                if (k.startsWith("model.")) {
                    state.put(k.substring("model.".length()), v);
                }
            });
            model.loadStateDict(state);
            optimizer.loadStateDict(StateDict.select(c.tensors(), meta, "optimizer."));
            Tensor best = c.tensors().get("best_parameters");
            bestParams = best == null ? null : best.toFloatArray();
            step = loaded.longValue("sparkgrad.step");
            epoch = loaded.intValue("sparkgrad.epoch");
            round = loaded.intValue("sparkgrad.round");
            epochLoss = loaded.doubleValue("sparkgrad.epochLoss");
            epochWeight = loaded.doubleValue("sparkgrad.epochWeight");
            epochRows = loaded.longValue("sparkgrad.epochRows");
            bestLoss = loaded.doubleValue("sparkgrad.bestLoss");
            bestEpoch = loaded.intValue("sparkgrad.bestEpoch");
            badEpochs = loaded.intValue("sparkgrad.badEpochs");
            stoppedEarly = loaded.booleanValue("sparkgrad.stoppedEarly");
            resumedFrom = step;
            dirty = false;
            LOG.info("sparkgrad: resumed from {} (step {}, epoch {}, mini-batch {} of {})", loaded.path(), step,
                    epoch + 1, round * localSteps, batchesPerEpoch);
        }

        private void expect(CheckpointStore.Loaded loaded, String key, String want, String what) {
            String got = loaded.contents().metadata().get(key);
            if (!want.equals(got)) {
                throw new IllegalStateException("checkpoint " + loaded.path() + " is of a run with a different " + what
                        + " (" + got + ", now " + want + "), so resuming from it would not continue that run: use "
                        + "another checkpointDir, or the same settings and data");
            }
        }
    }
}
