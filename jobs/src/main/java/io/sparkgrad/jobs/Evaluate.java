package io.sparkgrad.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.cli.UsageException;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.jobs.data.Inputs;
import io.sparkgrad.spark.ml.NeuralNetClassificationModel;
import io.sparkgrad.spark.ml.NeuralNetModel;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

import java.io.PrintStream;
import java.util.Locale;
import java.util.UUID;

import static org.apache.spark.sql.functions.col;

/**
 * The {@code evaluate} job: scores labelled data with a trained model and prints the test metric
 * ({@code test accuracy: 0.xxxx} and the cross-entropy for a classifier, RMSE and MAE for a
 * regressor), optionally writing them, with the confusion matrix, to a JSON file.
 */
public final class Evaluate {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Evaluate() {
    }

    static Cli cli() {
        Cli cli = new Cli("evaluate", "Scores labelled data with a model written by train and prints the test "
                + "accuracy (classifier)\nor RMSE (regressor).");
        Common.modelOption(cli);
        Common.inputOptions(cli, false);
        cli.section("Output")
                .option("output", "FILE", "", "also write the metrics (and a classifier's confusion matrix) as JSON "
                        + "to this file (any Hadoop file system)")
                .flag("overwrite", "replace --output if it exists");
        Common.consoleOptions(cli, false);
        return cli;
    }

    public static void main(String[] args) {
        Common.main("evaluate", args);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return JobRunner.run(cli(), args, a -> evaluate(a, out, err), out, err);
    }

    private static int evaluate(Cli.Args a, PrintStream out, PrintStream err) throws Exception {
        String handleInvalid = a.choice("handle-invalid", "error", "skip");
        Common.precheck(a, true, false);
        try (Spark spark = Spark.start("sparkgrad evaluate", a)) {
            SparkSession s = spark.session();
            String outFile = a.string("output");
            if (outFile != null) {
                Path p = new Path(outFile);
                if (p.getFileSystem(s.sessionState().newHadoopConf()).exists(p) && !a.flag("overwrite")) {
                    throw new UsageException("--output: " + outFile + " already exists; choose another file or pass "
                            + "--overwrite");
                }
            }
            Common.Scoring in = Common.scoring(s, a, true);
            ModelDir.Loaded m = in.loaded();
            NeuralNetModel<?> model = in.model();
            String label = in.label();
            Inputs.checkNumeric(in.raw(), label, "--label");
            Dataset<Row> df = Common.forModel(in.raw(), m, a, label);
            Column y = col(label).cast(DataTypes.DoubleType);
            Column validLabel = y.isNotNull().and(functions.not(functions.isnan(y)));
            ObjectNode result = JSON.createObjectNode();
            result.put("model", m.path().toString());
            result.put("input", in.source().path());
            if (m.isClassifier()) {
                NeuralNetClassificationModel c = (NeuralNetClassificationModel) model;
                int k = c.numClasses();
                validLabel = validLabel.and(y.geq(0)).and(y.lt(k)).and(y.equalTo(functions.floor(y)));
                Dataset<Row> labelled = checkLabels(df, validLabel, handleInvalid, label,
                        "a class index in [0, " + k + ")");
                Dataset<Row> scored = c.setPredictionCol("prediction").setProbabilityCol("probability")
                        .setRawPredictionCol("").transform(labelled);
                Column p = functions.element_at(org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64"),
                        y.cast(DataTypes.IntegerType).plus(1));
                Row r = scored.agg(functions.count(functions.lit(1)),
                        functions.avg(functions.when(col("prediction").equalTo(y), 1.0).otherwise(0.0)),
                        functions.avg(functions.log(functions.greatest(p, functions.lit(1e-12))).multiply(-1))).head();
                long rows = r.getLong(0);
                if (rows == 0) {
                    throw new BadInputException("--input: no rows to evaluate");
                }
                result.put("rows", rows);
                result.put("accuracy", r.getDouble(1));
                result.put("loss", r.getDouble(2));
                ArrayNode confusion = result.putArray("confusion_matrix");
                long[][] cm = new long[k][k];
                for (Row row : scored.groupBy(y.cast(DataTypes.IntegerType).as("y"),
                        col("prediction").cast(DataTypes.IntegerType).as("p")).count().collectAsList()) {
                    cm[row.getInt(0)][row.getInt(1)] = row.getLong(2);
                }
                for (long[] line : cm) {
                    ArrayNode l = confusion.addArray();
                    for (long v : line) {
                        l.add(v);
                    }
                }
                out.println(String.format(Locale.ROOT, "test accuracy: %.4f", r.getDouble(1)));
                out.println(String.format(Locale.ROOT, "test loss: %.4f (cross-entropy, %d rows)", r.getDouble(2), rows));
            } else {
                Dataset<Row> scored = model.setPredictionCol("prediction")
                        .transform(checkLabels(df, validLabel, handleInvalid, label, "a number"));
                Column e = col("prediction").minus(y);
                Row r = scored.agg(functions.count(functions.lit(1)), functions.avg(e.multiply(e)),
                        functions.avg(functions.abs(e))).head();
                long rows = r.getLong(0);
                if (rows == 0) {
                    throw new BadInputException("--input: no rows to evaluate");
                }
                result.put("rows", rows);
                result.put("rmse", Math.sqrt(r.getDouble(1)));
                result.put("mae", r.getDouble(2));
                out.println(String.format(Locale.ROOT, "test rmse: %.4f", Math.sqrt(r.getDouble(1))));
                out.println(String.format(Locale.ROOT, "test mae: %.4f (%d rows)", r.getDouble(2), rows));
            }
            if (outFile != null) {
                writeAtomically(s, outFile, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(result));
                out.println("metrics: " + outFile);
            }
            out.flush();
        }
        return 0;
    }

    /**
     * The rows whose label can be scored. With {@code error}, a row whose label cannot fails the job,
     * naming the first such label; with {@code skip} such rows are left out.
     */
    private static Dataset<Row> checkLabels(Dataset<Row> df, Column valid, String handleInvalid, String label,
            String expected) {
        if (handleInvalid.equals("error")) {
            Row[] bad = (Row[]) df.filter(functions.not(valid)).select(col(label)).head(1);
            if (bad.length > 0) {
                throw new BadInputException("--label: column '" + label + "' holds " + bad[0].get(0) + "; expected "
                        + expected + " (or pass --handle-invalid skip)");
            }
        }
        return df.filter(valid);
    }

    private static void writeAtomically(SparkSession s, String file, byte[] bytes) throws java.io.IOException {
        Path p = new Path(file);
        FileSystem fs = p.getFileSystem(s.sessionState().newHadoopConf());
        Path tmp = new Path(p.getParent(), "." + p.getName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FSDataOutputStream o = fs.create(tmp, false)) {
                o.write(bytes);
            }
            if (fs.exists(p)) {
                fs.delete(p, false);
            }
            if (!fs.rename(tmp, p)) {
                throw new java.io.IOException("could not rename " + tmp + " to " + p);
            }
        } finally {
            fs.delete(tmp, false);
        }
    }
}
