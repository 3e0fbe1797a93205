package io.sparkgrad.jobs;

import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.data.ArrowIpc;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.spark.ml.NeuralNetClassificationModel;
import io.sparkgrad.spark.ml.NeuralNetModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;

/**
 * The {@code predict} job: scores data with a trained model and writes the predictions as Parquet
 * or Arrow IPC files, with the columns asked for carried along. A classifier's output has
 * {@code prediction} (the class index) and {@code probability} (an array of per-class
 * probabilities); a regressor's has {@code prediction}.
 */
public final class Predict {
    private Predict() {
    }

    static Cli cli() {
        Cli cli = new Cli("predict", "Scores data with a model written by train and writes the predictions as "
                + "Parquet or Arrow IPC.");
        Common.modelOption(cli);
        Common.inputOptions(cli, false);
        cli.section("Output")
                .required("output", "DIR", "output directory (any Hadoop file system)")
                .option("output-format", "FORMAT", "parquet", "parquet or arrow (one Arrow IPC file per partition)")
                .option("keep", "COLS", "", "input columns to copy next to the predictions, comma-separated, or "
                        + "'all' (default: the label column when the input has one)")
                .flag("overwrite", "replace --output if it exists (only once the job has succeeded)");
        Common.consoleOptions(cli, false);
        return cli;
    }

    public static void main(String[] args) {
        Common.main("predict", args);
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        return JobRunner.run(cli(), args, a -> predict(a, out, err), out, err);
    }

    private static int predict(Cli.Args a, PrintStream out, PrintStream err) throws Exception {
        String outputFormat = a.choice("output-format", "parquet", "arrow");
        Common.precheck(a, true, true);
        try (Spark spark = Spark.start("sparkgrad predict", a)) {
            SparkSession s = spark.session();
            OutputDir output = OutputDir.prepare(s.sessionState().newHadoopConf(), a.require("output"),
                    a.flag("overwrite"), "--output");
            Common.Scoring in = Common.scoring(s, a, false);
            ModelDir.Loaded m = in.loaded();
            NeuralNetModel<?> model = in.model();
            List<String> keep = keep(a, in.raw(), in.label());
            Dataset<Row> df = Common.forModel(in.raw(), m, a, null);
            List<Column> select = new ArrayList<>();
            keep.forEach(c -> select.add(col(c)));
            Dataset<Row> scored;
            if (m.isClassifier()) {
                scored = ((NeuralNetClassificationModel) model).setPredictionCol("prediction")
                        .setProbabilityCol("probability").setRawPredictionCol("").transform(df);
                select.add(col("prediction"));
                select.add(org.apache.spark.ml.functions.vector_to_array(col("probability"), "float64").as("probability"));
            } else {
                scored = model.setPredictionCol("prediction").transform(df);
                select.add(col("prediction"));
            }
            Dataset<Row> result = scored.select(select.toArray(new Column[0]));
            try (OutputDir o = output) {
                if (outputFormat.equals("parquet")) {
                    result.write().parquet(o.staging().toString());
                } else {
                    o.create();
                    ArrowIpc.write(result, o.staging().toString(), s.sessionState().newHadoopConf());
                }
                o.commit();
            }
            out.println("predictions: " + output.target() + " (" + outputFormat + ", columns "
                    + String.join(", ", result.columns()) + ")");
            out.flush();
        }
        return 0;
    }

    private static List<String> keep(Cli.Args a, Dataset<Row> raw, String label) {
        List<String> names = Arrays.asList(raw.columns());
        List<String> keep = a.list("keep");
        if (keep.size() == 1 && keep.get(0).equals("all")) {
            return names;
        }
        if (keep.isEmpty()) {
            return names.contains(label) ? List.of(label) : List.of();
        }
        for (String c : keep) {
            if (!names.contains(c)) {
                throw new BadInputException("--keep: column '" + c + "' does not exist; the input has " + names);
            }
            if (c.equals("prediction") || c.equals("probability")) {
                throw new BadInputException("--keep: column '" + c + "' would collide with the output column of "
                        + "that name; rename it first");
            }
        }
        return keep;
    }
}
