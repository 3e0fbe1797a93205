package io.sparkgrad.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.cli.UsageException;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.jobs.data.InputFormat;
import io.sparkgrad.jobs.data.Inputs;
import io.sparkgrad.jobs.model.ModelSpec;
import io.sparkgrad.jobs.model.SpecNetwork;
import io.sparkgrad.jobs.report.Curve;
import io.sparkgrad.jobs.report.EpochRecord;
import io.sparkgrad.jobs.train.LrSchedule;
import io.sparkgrad.jobs.train.Progress;
import io.sparkgrad.spark.ml.NeuralNetClassifier;
import io.sparkgrad.spark.ml.NeuralNetEstimator;
import io.sparkgrad.spark.ml.NeuralNetModel;
import io.sparkgrad.spark.ml.NeuralNetRegressor;
import io.sparkgrad.spark.ml.NeuralNetTrainingSummary;
import io.sparkgrad.spark.train.CheckpointStore;
import io.sparkgrad.spark.train.EpochStats;
import io.sparkgrad.spark.train.TrainerConfig;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The {@code train} job: reads a DataFrame, trains a network on it data-parallel with Sparkgrad's
 * Spark ML estimator, and writes the model directory, the weights as safetensors, the per-epoch
 * metrics and the training curve into one output directory, all at once at the end.
 *
 * <h2>How the epochs run</h2>
 * Each epoch is one {@code fit} of the estimator that resumes from the checkpoint the previous
 * epoch left (in {@code --checkpoint-dir}, or a temporary directory inside the output's staging
 * directory), with that epoch's learning rate: so every epoch's statistics are printed and recorded
 * as soon as it ends, a killed job continues with {@code --resume} at the epoch where it stopped,
 * and any schedule works (the trainer applies the configured rate at the start of each epoch, to
 * the driver's optimizer or, with local steps, to the replicas' own). The input is cached once for
 * all epochs.
 *
 * <h2>Resuming</h2>
 * Where a resumed run continues is decided by the checkpoints alone, exactly as the trainer decides
 * it ({@link CheckpointStore#resumePosition}): the newest checkpoint that passes its checksum, a
 * damaged newer one being set aside. The epoch, the step and whether early stopping had ended the
 * run come from that checkpoint, and the step is checked against the one the trainer really
 * resumed from. Beside the checkpoints the job keeps {@value #HISTORY_FILE}, each finished epoch's
 * statistics, replaced whole after every epoch; on resume its records past the checkpoint's epoch
 * are dropped. It only describes past epochs (for {@code metrics.json} and {@code curve.png}), so a
 * history that cannot be read is reported, naming the file and what is wrong, and the run goes on
 * without those earlier records rather than failing.
 */
public final class Train {
    static final String HISTORY_FILE = "sparkgrad-jobs-history.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private Train() {
    }

    /** The command line of {@code train}. */
    static Cli cli() {
        Cli cli = new Cli("train", "Trains a neural network on a DataFrame with Sparkgrad (data-parallel on the "
                + "cluster's executors)\nand writes the Spark ML model, the weights as safetensors, metrics.json and "
                + "curve.png.");
        Common.inputOptions(cli, true);
        cli.section("Network")
                .option("task", "TASK", "classification", "classification (cross-entropy, labels 0..K-1) or regression (MSE)")
                .option("layers", "N,N,...", "128", "hidden layer widths of the perceptron; 'none' for a linear model")
                .option("activation", "NAME", "relu", "activation between layers: relu, tanh, sigmoid or gelu")
                .option("model-spec", "PATH", "", "a JSON network spec (conv nets; replaces --layers/--activation); "
                        + "limits: " + ModelSpec.MAX_LAYERS + " layers, " + ModelSpec.MAX_PARAMETERS / 1_000_000
                        + "M parameters")
                .section("Training")
                .option("optimizer", "NAME", "adam", "sgd, adam or adamw (PyTorch's defaults otherwise)")
                .option("lr", "RATE", "0.001", "learning rate")
                .option("lr-schedule", "NAME", "constant", "learning rate per epoch: constant, step (x gamma every "
                        + "--lr-step-epochs) or cosine (to --lr-min over the epochs)")
                .option("lr-step-epochs", "N", "1", "step schedule: epochs between decays")
                .option("lr-gamma", "X", "0.5", "step schedule: the decay factor")
                .option("lr-min", "RATE", "0", "cosine schedule: the final learning rate")
                .option("batch", "N", "128", "global mini-batch: rows per step over all executors together")
                .option("epochs", "N", "10", "passes over the training rows")
                .option("seed", "N", "42", "seed of the initial weights, shuffling and the validation split")
                .option("validation", "FRACTION", "0.1", "share of the rows held out to report validation loss and "
                        + "accuracy after each epoch; 0 for none")
                .option("early-stopping", "N", "0", "stop after N epochs without a better validation loss and keep "
                        + "the best epoch's weights; 0 never stops early")
                .option("local-steps", "K", "auto", "mini-batches each partition trains on its own between "
                        + "synchronisations: 1 is synchronous data parallelism; auto lets the trainer pick K so that "
                        + "Spark's overhead stays small (1 for big models)")
                .option("partitions", "N", "0", "repartition the input into N partitions (0: keep; IDX: Spark's "
                        + "default parallelism)")
                .section("Checkpoints")
                .option("checkpoint-dir", "PATH", "", "directory (any Hadoop file system) for checkpoints of the "
                        + "parameters and optimizer state")
                .option("checkpoint-interval", "N", "0", "steps between checkpoints; 0 for one per epoch")
                .flag("resume", "continue the run in --checkpoint-dir from its newest checkpoint (fresh if there is none)")
                .section("Output")
                .required("output", "DIR", "output directory (any Hadoop file system): model/, weights.safetensors, "
                        + "metrics.json, curve.png, job.json")
                .flag("overwrite", "replace --output if it exists (only once the job has succeeded)");
        Common.consoleOptions(cli, true);
        cli.epilog("Example (Fashion-MNIST from Debian's dataset-fashion-mnist):\n"
                + "  spark-submit --class io.sparkgrad.jobs.Main sparkgrad-jobs.jar train \\\n"
                + "    --input /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\\n"
                + "    --layers 256,128 --epochs 5 --batch 256 --output /tmp/fmnist-model");
        return cli;
    }

    public static void main(String[] args) {
        Common.main("train", args);
    }

    /** Runs the job; returns its exit status (0, 1 for a failure, 2 for bad arguments or input). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return JobRunner.run(cli(), args, a -> new Train.Run(a, out, err).run(), out, err);
    }

    /** The settings of one run, checked before Spark starts. */
    private static final class Run {
        private final Cli.Args a;
        private final PrintStream out;
        private final PrintStream err;
        private final boolean classification;
        private final int[] layers;
        private final String activation;
        private final String optimizer;
        private final LrSchedule schedule;
        private final int batch;
        private final int epochs;
        private final long seed;
        private final double validation;
        private final int patience;
        private final int localSteps;
        private final int partitions;
        private final int checkpointInterval;
        private final String checkpointDir;
        private final boolean resume;
        private final String handleInvalid;
        private final Progress.Mode progressMode;

        Run(Cli.Args a, PrintStream out, PrintStream err) {
            this.a = a;
            this.out = out;
            this.err = err;
            this.classification = a.choice("task", "classification", "regression").equals("classification");
            this.layers = a.intList("layers", 1, 1 << 16);
            this.activation = a.choice("activation", "relu", "tanh", "sigmoid", "gelu");
            this.optimizer = a.choice("optimizer", "sgd", "adam", "adamw");
            this.epochs = a.intValue("epochs", 1, 1_000_000);
            this.schedule = new LrSchedule(a.choice("lr-schedule", LrSchedule.KINDS), a.positive("lr"),
                    a.intValue("lr-step-epochs", 1, 1_000_000), a.doubleValue("lr-gamma", 0, 1, false),
                    a.doubleValue("lr-min", 0, Double.MAX_VALUE, false), epochs);
            if (schedule.kind().equals("cosine") && schedule.min() > schedule.lr()) {
                throw new UsageException("--lr-min: the cosine schedule ends at --lr-min " + schedule.min()
                        + ", which is above --lr " + schedule.lr());
            }
            this.batch = a.intValue("batch", 1, Integer.MAX_VALUE);
            this.seed = a.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE);
            this.validation = a.doubleValue("validation", 0, 1, true);
            this.patience = a.intValue("early-stopping", 0, 1_000_000);
            if (patience > 0 && validation == 0) {
                throw new UsageException("--early-stopping needs validation rows: set --validation above 0");
            }
            this.localSteps = "auto".equalsIgnoreCase(a.require("local-steps")) ? TrainerConfig.AUTO_LOCAL_STEPS
                    : a.intValue("local-steps", 1, 1_000_000);
            this.partitions = a.intValue("partitions", 0, 1_000_000);
            this.checkpointInterval = a.intValue("checkpoint-interval", 0, Integer.MAX_VALUE);
            this.checkpointDir = a.string("checkpoint-dir");
            this.resume = a.flag("resume");
            if (resume && checkpointDir == null) {
                throw new UsageException("--resume needs --checkpoint-dir: the directory whose run to continue");
            }
            this.handleInvalid = a.choice("handle-invalid", "error", "skip");
            this.progressMode = Progress.Mode.parse(a.choice("progress", "auto", "bar", "lines", "none"));
            if (a.given("model-spec") && (a.given("layers") || a.given("activation"))) {
                throw new UsageException("--model-spec replaces --layers and --activation; give one or the other");
            }
        }

        int run() throws Exception {
            long start = System.nanoTime();
            Common.precheck(a, false, true);
            try (Spark spark = Spark.start("sparkgrad train", a)) {
                SparkSession s = spark.session();
                Configuration conf = s.sessionState().newHadoopConf();
                OutputDir output = OutputDir.prepare(conf, a.require("output"), a.flag("overwrite"), "--output");
                ModelSpec spec = a.string("model-spec") == null ? null : Common.readSpec(conf, a.string("model-spec"));
                CheckpointStore.Position latest = null;
                if (checkpointDir != null && !resume) {
                    String newest = CheckpointStore.newestFile(checkpointDir, conf);
                    if (newest != null) {
                        throw new UsageException("--checkpoint-dir: " + checkpointDir + " holds a run (its newest "
                                + "checkpoint is " + new Path(newest).getName() + "); pass --resume to continue it, or "
                                + "give an empty directory");
                    }
                } else if (checkpointDir != null) {
                    latest = CheckpointStore.resumePosition(checkpointDir, conf);
                    if (latest == null) {
                        err.println("sparkgrad train: no intact checkpoint in " + checkpointDir + "; starting a new run");
                    }
                }
                Inputs.Source source = Common.source(a, partitions);
                InputFormat format = Inputs.formatOf(s, source);
                Dataset<Row> raw = Inputs.read(s, source, true);
                String label = a.require("label");
                Inputs.checkNumeric(raw, label, "--label");
                Inputs.Features features = Inputs.features(raw, a.list("features"), List.of(label));
                Dataset<Row> df = features.df().select(functions.col(features.column()), functions.col(label));
                if (partitions > 0 && format != InputFormat.IDX) {
                    df = df.repartition(partitions);
                }
                df = df.persist(StorageLevel.MEMORY_AND_DISK());
                try (OutputDir o = output.create()) {
                    long rows = df.count();
                    if (rows == 0) {
                        throw new BadInputException("--input: " + source.path() + " holds no rows");
                    }
                    int numClasses = 0;
                    if (classification) {
                        numClasses = numClasses(df, label);
                        df = df.withColumn(label, functions.col(label).as(label, NominalAttribute.defaultAttr()
                                .withName(label).withNumValues(numClasses).toMetadata()));
                    }
                    Object firstFeatures = df.select(features.column()).head().get(0);
                    if (spec != null) {
                        checkSpec(spec, firstFeatures, numClasses);
                    } else {
                        checkPerceptron(firstFeatures, numClasses, source.path());
                    }
                    err.println(String.format(Locale.ROOT, "sparkgrad train: %d rows of %s from %s (%s)%s, %s", rows,
                            features.assembled() ? features.sources().size() + " columns" : "'" + features.column() + "'",
                            source.path(), format.cliName(), classification ? ", " + numClasses + " classes" : "",
                            spec != null ? "network " + spec : "perceptron " + describeLayers()));
                    String ckpt = checkpointDir != null ? checkpointDir : o.file("_checkpoints").toString();
                    Fitted fitted = fitEpochs(s, conf, df, features.column(), label, spec, ckpt, latest, rows, o);
                    o.fs().delete(o.file("_checkpoints"), true);
                    write(o, fitted, spec, features, format, source, numClasses, (System.nanoTime() - start) / 1e9);
                    o.commit();
                    report(fitted, output.target());
                } finally {
                    df.unpersist();
                }
            }
            return 0;
        }

        private String describeLayers() {
            StringBuilder b = new StringBuilder("features");
            for (int w : layers) {
                b.append('-').append(w);
            }
            return b.append('-').append(classification ? "classes" : "1").append(" (").append(activation).append(')')
                    .toString();
        }

        /**
         * Each weight matrix of the perceptron on the data's real feature count must fit one tensor
         * (2^31-1 values): a LibSVM file with an index of 2^31-1 asked for a first layer that wide and
         * ended in a tensor-shape error naming neither the option nor the file. Whether a model that
         * fits tensors fits memory is the trainer's pre-flight check, which weighs it against the heap.
         */
        private void checkPerceptron(Object firstFeatures, int numClasses, String path) {
            if (firstFeatures == null) {
                return; // a null first row: the trainer names it (or skips it)
            }
            int n = featureCount(firstFeatures);
            int[] widths = new int[layers.length + 2];
            widths[0] = n;
            System.arraycopy(layers, 0, widths, 1, layers.length);
            widths[widths.length - 1] = classification ? numClasses : 1;
            for (int i = 0; i + 1 < widths.length; i++) {
                if ((long) widths[i] * widths[i + 1] > Integer.MAX_VALUE) {
                    throw new UsageException(String.format(Locale.ROOT, "--layers: on the %,d features of %s, the "
                            + "perceptron %s needs a %,d x %,d weight matrix, more than the 2^31-1 values a tensor "
                            + "holds", n, path, describeLayers(), widths[i + 1], widths[i]));
                }
            }
        }

        private static int featureCount(Object firstFeatures) {
            return firstFeatures instanceof org.apache.spark.ml.linalg.Vector
                    ? ((org.apache.spark.ml.linalg.Vector) firstFeatures).size()
                    : ((scala.collection.Seq<?>) firstFeatures).size();
        }

        /** The spec's input must hold one row's features, its output one logit per class (or one value). */
        private void checkSpec(ModelSpec spec, Object firstFeatures, int numClasses) {
            if (firstFeatures == null) {
                return; // a null first row: the trainer names it (or skips it)
            }
            int n = featureCount(firstFeatures);
            if (spec.inputSize() != n) {
                throw new UsageException("--model-spec: the spec's input " + java.util.Arrays.toString(spec.input())
                        + " holds " + spec.inputSize() + " values per example, but the data has " + n + " features");
            }
            int want = classification ? numClasses : 1;
            if (spec.outputSize() != want) {
                throw new UsageException("--model-spec: the last layer gives " + spec.outputSize() + " outputs; "
                        + (classification ? "the labels have " + numClasses + " classes" : "regression needs 1"));
            }
        }

        /** The number of classes: from the label's metadata, or the largest valid class index plus one. */
        private int numClasses(Dataset<Row> df, String label) {
            Attribute attr = Attribute.fromStructField(df.schema().apply(label));
            if (attr instanceof NominalAttribute && ((NominalAttribute) attr).getNumValues().isDefined()) {
                return (Integer) ((NominalAttribute) attr).getNumValues().get();
            }
            Column y = functions.col(label).cast(DataTypes.DoubleType);
            Column valid = y.isNotNull().and(functions.not(functions.isnan(y))).and(y.geq(0))
                    .and(y.equalTo(functions.floor(y)));
            Row r = df.agg(functions.max(functions.when(valid, y))).head();
            if (r.isNullAt(0)) {
                throw new BadInputException("--label: column '" + label + "' holds no class index (0, 1, ...); for "
                        + "real-valued targets use --task regression");
            }
            double max = r.getDouble(0);
            if (max < 1) {
                throw new BadInputException("--label: column '" + label + "' has a single class (0); a classifier needs "
                        + "at least 2");
            }
            if (max >= 100_000) {
                throw new BadInputException("--label: column '" + label + "' has the class index " + (long) max
                        + "; labels must be class indices 0..K-1 with K < 100000 (index string labels first)");
            }
            return (int) max + 1;
        }

        private NeuralNetEstimator<?, ?> estimator(String featuresCol, String label, ModelSpec spec, String ckpt) {
            NeuralNetEstimator<?, ?> e = classification ? new NeuralNetClassifier() : new NeuralNetRegressor();
            // Each fit runs one epoch at the rate fitEpochs sets, which the trainer applies at the start of that
            // epoch (also when it resumes inside it); the trainer's own schedule would see maxEpochs = e + 1 and
            // bend that rate, so it stays constant and this job's --lr-schedule is the only one.
            e.setLrSchedule("constant");
            e.setFeaturesCol(featuresCol).setLabelCol(label).setOptimizer(optimizer).setLearningRate(schedule.lr())
                    .setBatchSize(batch).setSeed(seed).setLocalSteps(localSteps).setValidationFraction(validation)
                    .setEarlyStoppingPatience(patience).setHandleInvalid(handleInvalid).setCheckpointDir(ckpt)
                    .setCheckpointInterval(checkpointInterval);
            if (spec != null) {
                e.setModuleFactory(new SpecNetwork(spec));
            } else {
                e.setHiddenLayers(layers).setActivation(activation);
            }
            return e;
        }

        /** What the epochs produced: the final model and every epoch's record. */
        private record Fitted(NeuralNetModel<?> model, List<EpochRecord> history, NeuralNetTrainingSummary last,
                long resumedFromStep) {
        }

        /** Runs the remaining epochs, one fit each, resuming from the checkpoint in {@code ckpt}. */
        private Fitted fitEpochs(SparkSession s, Configuration conf, Dataset<Row> df, String featuresCol, String label,
                ModelSpec spec, String ckpt, CheckpointStore.Position latest, long rows, OutputDir o)
                throws IOException {
            List<EpochRecord> history = latest == null ? new ArrayList<>() : readHistory(conf, ckpt, latest.epochsDone());
            int done = latest == null ? 0 : latest.epochsDone();
            if (latest != null) {
                err.println("sparkgrad train: resuming " + ckpt + " at step " + latest.step() + " (" + done + " of "
                        + epochs + " epochs done" + (latest.midEpoch() ? ", continuing inside epoch " + (done + 1) : "")
                        + (latest.stoppedEarly() ? ", stopped early" : "") + ")");
            }
            boolean stopped = latest != null && latest.stoppedEarly();
            NeuralNetEstimator<?, ?> estimator = estimator(featuresCol, label, spec, ckpt);
            Progress progress = new Progress(err, progressMode, Math.round(rows * (1 - validation)), epochs);
            s.sparkContext().addSparkListener(progress);
            NeuralNetModel<?> model = null;
            NeuralNetTrainingSummary last = null;
            try {
                for (int e = done; e < epochs && !stopped; e++) {
                    double lr = schedule.at(e);
                    estimator.setMaxEpochs(e + 1).setLearningRate(lr);
                    model = (NeuralNetModel<?>) estimator.fit(df);
                    if (last == null) {
                        checkResumedAt(latest, model.summary());
                    }
                    last = model.summary();
                    for (EpochStats st : last.history()) {
                        history.add(EpochRecord.of(st, lr));
                        progress.epochDone(st, lr);
                    }
                    writeHistory(conf, ckpt, history);
                    stopped = last.stoppedEarly() || last.history().isEmpty();
                }
                if (model == null) {
                    // Nothing left to train (a resume of a finished run): a fit that only restores the checkpoint.
                    estimator.setMaxEpochs(Math.max(done, 1));
                    model = (NeuralNetModel<?>) estimator.fit(df);
                    last = model.summary();
                    checkResumedAt(latest, last);
                }
            } finally {
                s.sparkContext().removeSparkListener(progress);
            }
            if (stopped && last.stoppedEarly()) {
                err.println("sparkgrad train: stopped early; the model has epoch " + last.bestEpoch() + "'s weights");
            }
            return new Fitted(model, history, last, latest == null ? 0 : latest.step());
        }

        /**
         * The job chose its epochs by {@code latest}; the trainer chose its checkpoint again when the
         * first fit started. They agree unless the directory changed in between.
         */
        private void checkResumedAt(CheckpointStore.Position latest, NeuralNetTrainingSummary first) {
            long expected = latest == null ? 0 : latest.step();
            if (first.resumedFromStep() != expected) {
                throw new IllegalStateException("--checkpoint-dir: the trainer resumed from step " + first.resumedFromStep()
                        + ", not from step " + expected + (latest == null ? "" : " (" + latest.file() + ")") + " as the "
                        + "job had found: the directory changed while the job started; run it again with --resume");
            }
        }

        /**
         * The records of epochs 1 to {@code epochsDone} in the history beside the checkpoints; with a
         * warning and without them when the history cannot be read (see the class comment).
         */
        private List<EpochRecord> readHistory(Configuration conf, String dir, int epochsDone) {
            Path p = new Path(dir, HISTORY_FILE);
            TreeMap<Integer, EpochRecord> byEpoch = new TreeMap<>();
            try {
                FileSystem fs = p.getFileSystem(conf);
                JsonNode all = JSON.createArrayNode();
                if (fs.exists(p)) {
                    try (FSDataInputStream in = fs.open(p)) {
                        all = JSON.readTree(in);
                    }
                }
                if (all == null || !all.isArray()) {
                    throw new IllegalArgumentException("it is not a JSON array of epochs");
                }
                for (JsonNode n : all) {
                    EpochRecord r = EpochRecord.fromJson(n);
                    if (r.epoch() <= epochsDone) {
                        byEpoch.put(r.epoch(), r);
                    }
                }
            } catch (IOException | IllegalArgumentException e) {
                String what = e instanceof JsonProcessingException j ? "not valid JSON: " + j.getOriginalMessage()
                        : e.getMessage();
                err.println("sparkgrad train: warning: ignoring the epoch history " + p + ": " + what + "; metrics.json "
                        + "and " + ModelDir.CURVE + " list only the epochs run from now on (training continues from "
                        + "the checkpoint, which was checked)");
                return new ArrayList<>();
            }
            if (byEpoch.size() < epochsDone) {
                err.println("sparkgrad train: warning: the epoch history " + p + " has " + byEpoch.size() + " of the "
                        + epochsDone + " epochs done (a job stopped between an epoch's checkpoint and its record); "
                        + "metrics.json lists only those");
            }
            return new ArrayList<>(byEpoch.values());
        }

        private void writeHistory(Configuration conf, String dir, List<EpochRecord> history) throws IOException {
            ArrayNode arr = JSON.createArrayNode();
            history.forEach(r -> arr.add(r.toJson()));
            CheckpointStore.writeBeside(dir, HISTORY_FILE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr),
                    conf);
        }

        private void write(OutputDir o, Fitted f, ModelSpec spec, Inputs.Features features, InputFormat format,
                Inputs.Source source, int numClasses, double seconds) throws IOException {
            NeuralNetModel<?> model = f.model();
            model.write().save(o.file(ModelDir.MODEL).toString());
            if (spec != null) {
                o.write(ModelDir.MODEL + "/" + SpecNetwork.SPEC_FILE, spec.toJson().getBytes(StandardCharsets.UTF_8));
            }
            o.write(ModelDir.WEIGHTS, model.weightsSafetensors());
            NeuralNetTrainingSummary last = f.last();
            ObjectNode m = JSON.createObjectNode();
            m.put("task", classification ? "classification" : "regression");
            m.put("metric", classification ? "accuracy" : "rmse");
            ArrayNode eps = m.putArray("epochs");
            f.history().forEach(r -> eps.add(r.toJson()));
            m.put("epochs_run", f.history().size());
            m.put("steps", last.totalSteps());
            m.put("local_steps", last.localSteps());
            m.put("train_rows", last.trainRows());
            m.put("validation_rows", last.validationRows());
            m.put("skipped_rows", last.skippedRows());
            m.put("stopped_early", last.stoppedEarly());
            m.put("best_epoch", last.bestEpoch());
            m.put("resumed_from_step", f.resumedFromStep());
            m.put("num_features", model.numFeatures());
            m.put("num_outputs", model.numOutputs());
            m.put("seconds", seconds);
            o.write(ModelDir.METRICS, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
            if (!f.history().isEmpty()) {
                try {
                    o.write(ModelDir.CURVE, Curve.png(f.history(), classification ? "training" : "training (regression)"));
                } catch (IOException | RuntimeException | Error e) {
                    err.println("sparkgrad train: could not draw " + ModelDir.CURVE + " (" + e + "); the other outputs "
                            + "are complete");
                }
            }
            ObjectNode job = JSON.createObjectNode();
            job.put("job", "train");
            job.put("task", classification ? "classification" : "regression");
            job.put("input", source.path());
            job.put("format", format.cliName());
            ObjectNode feats = job.putObject("features");
            feats.put("column", features.column());
            feats.put("assembled", features.assembled());
            ArrayNode srcs = feats.putArray("sources");
            features.sources().forEach(srcs::add);
            job.put("label", a.require("label"));
            job.put("num_classes", numClasses);
            job.put("num_features", model.numFeatures());
            job.put("network", spec != null ? "spec" : "perceptron");
            if (spec != null) {
                job.set("spec", JSON.readTree(spec.toJson()));
            }
            ObjectNode args = job.putObject("arguments");
            for (String name : cli().optionNames()) {
                if (!name.equals("help") && a.string(name) != null) {
                    args.put(name, a.string(name));
                }
            }
            o.write(ModelDir.JOB, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(job));
        }

        private void report(Fitted f, Path target) {
            EpochRecord lastEpoch = f.history().isEmpty() ? null : f.history().get(f.history().size() - 1);
            if (lastEpoch != null && !Double.isNaN(lastEpoch.validationMetric())) {
                out.println(String.format(Locale.ROOT, "validation %s: %.4f", lastEpoch.metricName(),
                        lastEpoch.validationMetric()));
            }
            out.println("model:   " + new Path(target, ModelDir.MODEL));
            out.println("weights: " + new Path(target, ModelDir.WEIGHTS));
            out.println("metrics: " + new Path(target, ModelDir.METRICS));
            out.println("curve:   " + new Path(target, ModelDir.CURVE));
            out.flush();
        }
    }
}
