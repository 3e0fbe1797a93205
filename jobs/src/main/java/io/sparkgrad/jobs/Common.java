package io.sparkgrad.jobs;

import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.cli.UsageException;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.jobs.data.InputFormat;
import io.sparkgrad.jobs.data.Inputs;
import io.sparkgrad.jobs.model.ModelSpec;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgrad.spark.ml.Mlp;
import io.sparkgrad.spark.ml.NeuralNetModel;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The options the jobs share (input, console) and reading small files such as the model spec. */
final class Common {
    private Common() {
    }

    /** The input options; {@code training} says whether the label is needed. */
    static void inputOptions(Cli cli, boolean training) {
        cli.section("Input")
                .required("input", "PATH", "data: a file, a directory or a glob on any Hadoop file system "
                        + "(file:, hdfs:, s3a:, abfss:, dbfs:, ...)")
                .option("format", "FORMAT", "auto", "parquet, csv, libsvm, idx (MNIST family, plain or .gz) or arrow "
                        + "(IPC file or stream); auto tells it from the file names")
                .option("labels", "PATH", "", "IDX: the labels file (default: the images file's name with "
                        + "images-idx3 -> labels-idx1, when it exists)")
                .option("features", "COLS", "", training
                        ? "features: one vector/array column, or numeric columns to assemble (default: 'features' if "
                                + "present, else every numeric column but the label)"
                        : "features: as train (default: the columns the model was trained on)")
                .option("label", "COL", training ? "label" : "", training ? "label column: class index 0..K-1, or the "
                        + "target for regression" : "label column (default: the one the model was trained with)")
                .option("csv-header", "BOOL", "true", "CSV: whether the first line names the columns")
                .option("csv-sep", "SEP", ",", "CSV: the field separator")
                .option("num-features", "N", "0", "LibSVM: the feature count (0: the largest index found)")
                .option("limit", "N", "0", "use only the first N rows (0: all)")
                .option("handle-invalid", "MODE", "error", "rows with null/NaN features or bad labels: error (fail "
                        + "naming the row) or skip (drop and count them)");
    }

    /** {@code --log-level}, and for training {@code --progress}. */
    static void consoleOptions(Cli cli, boolean progress) {
        cli.section("Console");
        if (progress) {
            cli.option("progress", "MODE", "auto", "auto (a progress bar on a terminal, plain lines otherwise), bar, "
                    + "lines or none");
        }
        cli.option("log-level", "LEVEL", "warn", "Spark's log level: error, warn, info, debug, or keep (leave "
                + "Spark's logging configuration as it is)");
    }

    /**
     * The input rows with the features column the model reads: as {@code --features} says, else as
     * the train job recorded in {@code job.json}, else the model's features column (or the default
     * choice of {@link Inputs#features}). Checks the feature count on the first row.
     */
    static Dataset<Row> forModel(Dataset<Row> raw, ModelDir.Loaded m, Cli.Args a, String label) {
        NeuralNetModel<?> model = m.model();
        List<String> exclude = label == null ? List.of() : List.of(label);
        Inputs.Features f;
        JsonNode recorded = m.job() == null ? null : m.job().get("features");
        if (a.given("features") || (recorded == null && !Arrays.asList(raw.columns()).contains(model.getFeaturesCol()))) {
            f = Inputs.features(raw, a.list("features"), exclude);
        } else if (recorded != null) {
            List<String> sources = new ArrayList<>();
            recorded.get("sources").forEach(n -> sources.add(n.asText()));
            f = Inputs.features(raw, sources, exclude);
        } else {
            f = Inputs.features(raw, List.of(model.getFeaturesCol()), exclude);
        }
        model.setFeaturesCol(f.column());
        Row[] firstRows = (Row[]) f.df().select(f.column()).head(1);
        if (firstRows.length == 0) {
            throw new BadInputException("--input: holds no rows");
        }
        Row first = firstRows[0];
        if (!first.isNullAt(0)) {
            Object v = first.get(0);
            int n = v instanceof Vector ? ((Vector) v).size() : ((scala.collection.Seq<?>) v).size();
            if (n != model.numFeatures()) {
                throw new BadInputException("--input: the features (" + String.join(", ", f.sources()) + ") hold " + n
                        + " values per row; the model takes " + model.numFeatures());
            }
        }
        return f.df();
    }

    /** The {@code --model} option of evaluate and predict. */
    static void modelOption(Cli cli) {
        cli.section("Model").required("model", "DIR", "the train job's --output directory, or a Spark ML model "
                + "directory saved by NeuralNetClassifier/Regressor");
    }

    /** A job's own {@code main}: {@link Main#main} with the job's name first. */
    static void main(String job, String[] args) {
        String[] named = new String[args.length + 1];
        named[0] = job;
        System.arraycopy(args, 0, named, 1, args.length);
        Main.main(named);
    }

    /**
     * What evaluate and predict score: the loaded model (with {@code --handle-invalid} set), the
     * input as read, and the label column's name.
     */
    record Scoring(ModelDir.Loaded loaded, NeuralNetModel<?> model, Inputs.Source source, Dataset<Row> raw,
            String label) {
    }

    /** Loads {@code --model} and reads {@code --input} (LibSVM with the model's feature count unless given). */
    static Scoring scoring(SparkSession s, Cli.Args a, boolean labelsRequired) {
        ModelDir.Loaded m = ModelDir.load(s, a.require("model"));
        NeuralNetModel<?> model = m.model().setHandleInvalid(a.choice("handle-invalid", "error", "skip"));
        Inputs.Source source = source(a, 0);
        if (Inputs.formatOf(s, source) == InputFormat.LIBSVM && source.numFeatures() == 0) {
            source = new Inputs.Source(source.path(), InputFormat.LIBSVM, null, false, ",", model.numFeatures(),
                    source.limit(), 0);
        }
        return new Scoring(m, model, source, Inputs.read(s, source, labelsRequired), label(a, m));
    }

    /** The label column: {@code --label}, else the one the model was trained with, else "label". */
    static String label(Cli.Args a, ModelDir.Loaded m) {
        if (a.string("label") != null) {
            return a.string("label");
        }
        if (m.job() != null && m.job().hasNonNull("label")) {
            return m.job().get("label").asText();
        }
        return m.model().getLabelCol();
    }

    /** The input source the options describe. */
    static Inputs.Source source(Cli.Args a, int partitions) {
        String sep = a.require("csv-sep");
        if (sep.equals("\\t") || sep.equalsIgnoreCase("tab")) {
            sep = "\t";
        }
        String header = a.require("csv-header").toLowerCase(java.util.Locale.ROOT);
        if (!header.equals("true") && !header.equals("false")) {
            throw new UsageException("--csv-header: expected true or false, got '" + a.require("csv-header") + "'");
        }
        return new Inputs.Source(a.require("input"), InputFormat.parse(a.require("format")), a.string("labels"),
                Boolean.parseBoolean(header), sep, a.intValue("num-features", 0, Integer.MAX_VALUE),
                a.longValue("limit", 0, Long.MAX_VALUE), partitions);
    }

    /**
     * Checks before Spark starts what the file system alone can tell, so a mistyped path fails at
     * once (exit status 2, nothing written) rather than after a session has started: {@code --input}
     * matches something, {@code --model} exists (evaluate, predict) or {@code --model-spec} is a valid
     * spec or {@code --layers} within its limits (train), and a directory {@code --output} is free
     * (unless {@code --overwrite}). The jobs check all of it again on the session's Hadoop
     * configuration.
     *
     * @param scoring            whether the job scores with a {@code --model} (else it trains)
     * @param outputIsDirectory  whether {@code --output} is a directory the job creates
     */
    static void precheck(Cli.Args a, boolean scoring, boolean outputIsDirectory) {
        Configuration conf = hadoopConf();
        if (scoring) {
            Path model = new Path(a.require("model"));
            try {
                if (!model.getFileSystem(conf).exists(model)) {
                    throw new BadInputException("--model: " + model + " does not exist");
                }
            } catch (IOException e) {
                throw new BadInputException("--model: cannot read " + model + ": " + e.getMessage(), e);
            }
        } else if (a.string("model-spec") != null) {
            readSpec(conf, a.string("model-spec"));
        } else {
            checkLayers(a.intList("layers", 1, 1 << 16));
        }
        if (outputIsDirectory) {
            OutputDir.prepare(conf, a.require("output"), a.flag("overwrite"), "--output");
        }
        Inputs.checkExists(conf, a.require("input"), "--input");
    }

    /**
     * Holds {@code --layers} to {@code --model-spec}'s limits before anything is built: at most
     * {@code (MAX_LAYERS - 1) / 2} hidden layers (a perceptron of k hidden layers is 2k + 1 layers,
     * counted as a spec counts them) and at most {@link ModelSpec#MAX_PARAMETERS} parameters, counted
     * from the widths with one input and one output (the least the data can add: the trainer's
     * pre-flight checks weigh the real count against the heap).
     *
     * @throws UsageException naming {@code --layers} and the limit
     */
    static void checkLayers(int[] hidden) {
        int most = (ModelSpec.MAX_LAYERS - 1) / 2;
        if (hidden.length > most) {
            throw new UsageException("--layers: " + hidden.length + " hidden layers; at most " + most + " are accepted "
                    + "(with their activations and the output layer, " + ModelSpec.MAX_LAYERS + " layers, as for "
                    + "--model-spec)");
        }
        int[] widths = new int[hidden.length + 2];
        widths[0] = 1;
        System.arraycopy(hidden, 0, widths, 1, hidden.length);
        widths[widths.length - 1] = 1;
        long atLeast = Mlp.parameters(widths);
        if (atLeast > ModelSpec.MAX_PARAMETERS) {
            throw new UsageException(String.format(java.util.Locale.ROOT, "--layers: hidden layers of these widths "
                    + "hold at least %,d parameters (more with the data's features and classes); at most %,d are "
                    + "accepted, as for --model-spec", atLeast, ModelSpec.MAX_PARAMETERS));
        }
    }

    /**
     * The Hadoop configuration of the session the job will use: the running one's, or, before a
     * session exists, Hadoop's defaults with the {@code spark.hadoop.*} settings of the submitted
     * Spark configuration (what Spark itself adds to them).
     */
    static Configuration hadoopConf() {
        if (SparkSession.getActiveSession().isDefined()) {
            return SparkSession.getActiveSession().get().sessionState().newHadoopConf();
        }
        if (SparkSession.getDefaultSession().isDefined()) {
            return SparkSession.getDefaultSession().get().sessionState().newHadoopConf();
        }
        Configuration conf = new Configuration();
        for (scala.Tuple2<String, String> kv : new org.apache.spark.SparkConf().getAll()) {
            if (kv._1().startsWith("spark.hadoop.")) {
                conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        return conf;
    }

    /** Reads and checks a JSON model spec from any Hadoop file system. */
    static ModelSpec readSpec(Configuration conf, String file) {
        try {
            return ModelSpec.parse(readText(conf, file, ModelSpec.MAX_BYTES, "--model-spec"), file);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--model-spec: " + e.getMessage(), e);
        }
    }

    /** A small text file, at most {@code maxBytes}. */
    static String readText(Configuration conf, String file, int maxBytes, String option) {
        Path p = new Path(file);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p) || !fs.getFileStatus(p).isFile()) {
                throw new BadInputException(option + ": " + file + " does not exist or is not a file");
            }
            long len = fs.getFileStatus(p).getLen();
            if (len > maxBytes) {
                throw new BadInputException(option + ": " + file + " has " + len + " bytes; at most " + maxBytes
                        + " are accepted");
            }
            try (FSDataInputStream in = fs.open(p)) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new BadInputException(option + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
