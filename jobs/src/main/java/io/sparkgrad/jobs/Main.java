package io.sparkgrad.jobs;

import io.sparkgrad.jobs.cli.UsageException;
import org.apache.spark.sql.SparkSession;

import java.io.PrintStream;
import java.util.Arrays;

/**
 * The jar's entry point: {@code spark-submit --class io.sparkgrad.jobs.Main sparkgrad-jobs.jar
 * train|evaluate|predict [OPTIONS]}. Each job is also its own main class
 * ({@link Train}, {@link Evaluate}, {@link Predict}). Exit status: 0 on success, 2 for a bad
 * argument or unreadable input (one line on stderr names it), 1 for any other failure.
 */
public final class Main {
    private Main() {
    }

    static final String USAGE = "Usage: spark-submit --class io.sparkgrad.jobs.Main sparkgrad-jobs.jar JOB [OPTIONS]\n\n"
            + "Jobs:\n"
            + "  train     train a neural network on a DataFrame; writes the Spark ML model, safetensors weights,\n"
            + "            metrics.json and curve.png\n"
            + "  evaluate  score labelled data with a trained model; prints the test accuracy (or RMSE)\n"
            + "  predict   score data with a trained model; writes predictions as Parquet or Arrow IPC\n\n"
            + "Run JOB --help for its options.\n";

    public static void main(String[] args) {
        // Decided before the job runs: a job stops the session it started, and whether Spark has
        // cleared its default session by the time the job returns is no basis for an exit status.
        boolean hosted = SparkSession.getActiveSession().isDefined() || SparkSession.getDefaultSession().isDefined();
        exit(run(args, System.out, System.err), args, hosted);
    }

    /**
     * Ends a job's {@code main} with {@code code}: returns on success; on failure exits the JVM with the
     * status, as spark-submit users expect, unless the job runs inside an application that already had
     * a Spark session when {@code main} began ({@code hosted}: a Databricks JAR task, a notebook):
     * there it throws, so the host marks the run failed without its JVM being shut down.
     */
    static void exit(int code, String[] args, boolean hosted) {
        if (code == 0) {
            return;
        }
        if (hosted) {
            throw new IllegalStateException("sparkgrad " + (args.length > 0 ? args[0] : "") + " failed with exit status "
                    + code + " (the reason is on stderr)");
        }
        System.exit(code);
    }

    /** Runs the job named by {@code args[0]}; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? UsageException.EXIT_CODE : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "train":
                return Train.run(rest, out, err);
            case "evaluate":
                return Evaluate.run(rest, out, err);
            case "predict":
                return Predict.run(rest, out, err);
            default:
                err.println("sparkgrad: unknown job '" + args[0] + "'; expected train, evaluate or predict (see --help)");
                return UsageException.EXIT_CODE;
        }
    }
}
