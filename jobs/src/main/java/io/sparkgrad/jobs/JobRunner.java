package io.sparkgrad.jobs;

import io.sparkgrad.data.IdxFormatException;
import io.sparkgrad.io.SafeTensorsFormatException;
import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.cli.UsageException;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.jobs.data.Inputs;
import io.sparkgrad.spark.data.InvalidRowException;
import org.apache.spark.SparkThrowable;

import java.io.IOException;
import java.io.PrintStream;

/**
 * Runs one job's body with the jobs' conventions: {@code --help} prints the help and succeeds; a bad
 * argument or unreadable input prints one line naming it and returns {@value UsageException#EXIT_CODE};
 * any other failure prints one line and the stack trace and returns 1.
 */
final class JobRunner {
    /** A job's work once its arguments are parsed; returns the exit status. */
    @FunctionalInterface
    interface Body {
        int run(Cli.Args args) throws Exception;
    }

    private JobRunner() {
    }

    static int run(Cli cli, String[] argv, Body body, PrintStream out, PrintStream err) {
        String who = "sparkgrad " + cli.command();
        try {
            Cli.Args args = cli.parse(argv);
            if (args.flag("help")) {
                out.print(cli.help());
                out.flush();
                return 0;
            }
            return body.run(args);
        } catch (Throwable t) {
            Throwable usage = usageCause(t);
            if (usage != null) {
                String hint = usage instanceof InvalidRowException ? " (in the jobs: --handle-invalid skip)" : "";
                err.println(who + ": " + Inputs.firstLine(usage) + hint);
                err.flush();
                return UsageException.EXIT_CODE;
            }
            err.println(who + ": failed: " + Inputs.firstLine(t));
            t.printStackTrace(err);
            err.flush();
            return 1;
        }
    }

    /**
     * The exception in {@code t}'s causes that says the arguments or the input are wrong, or null.
     * Spark wraps what a task threw; the original is among the causes.
     */
    static Throwable usageCause(Throwable t) {
        if (t instanceof IllegalArgumentException) {
            return t; // thrown by the job's own checks and the trainer's configuration checks
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof UsageException || c instanceof BadInputException || c instanceof IdxFormatException
                    || c instanceof InvalidRowException || c instanceof SafeTensorsFormatException) {
                return c;
            }
        }
        return unreadableFile(t);
    }

    /**
     * Spark's own report of an input file whose content it could not parse (a CSV row with too few
     * fields, a value that is not a number), which comes from inside a task as FAILED_READ_FILE
     * naming the file, with the reason at the bottom of the causes; as one line naming both. Null for
     * anything else, and for a read that failed on an {@code IOException} (a timeout, a lost block):
     * that is not the input's fault, may pass on a retry, and keeps exit 1 and its stack trace.
     */
    private static Throwable unreadableFile(Throwable t) {
        Throwable readFailure = null;
        for (Throwable c = t; c != null && readFailure == null; c = c.getCause() == c ? null : c.getCause()) {
            String condition = c instanceof SparkThrowable ? ((SparkThrowable) c).getCondition() : null;
            if (condition != null && condition.startsWith("FAILED_READ_FILE")) {
                readFailure = c;
            }
        }
        Throwable root = readFailure == null ? null : Inputs.rootCause(readFailure);
        Throwable reason = root == readFailure ? null : root;
        if (readFailure == null || reason instanceof IOException) {
            return null;
        }
        String file = Inputs.firstLine(readFailure).replaceFirst("^\\[[A-Z_.]+\\] ", "")
                .replaceFirst("\\.?\\s+SQLSTATE.*$", "");
        String why = reason == null ? "" : ": " + Inputs.firstLine(reason).replaceFirst("\\s+SQLSTATE.*$", "");
        return new BadInputException("--input: " + file + why, t);
    }
}
