package io.sparkgrad.spark.train;

import java.time.Duration;

/**
 * A training step (or validation pass) whose Spark jobs did not finish within
 * {@link TrainerConfig#stepTimeout()}: a task that never returns (a hung user function, a dead
 * disk, a deadlock) would otherwise hold the fit, and its cluster, forever. When it is thrown the
 * step's jobs have been cancelled and their tasks interrupted; parameters and checkpoints are as
 * after the last step that finished, so a new fit on the same checkpoint directory resumes.
 */
public class StepTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String step;
    private final transient Duration timeout;

    /**
     * @param step     which step, in words (e.g. {@code sparkgrad epoch 1/3 step 5/32 (global step 5)})
     * @param timeout  the limit that was exceeded
     * @param progress what the step's jobs were doing when they were cancelled, in words
     * @param cause    the cancelled job's failure, or null when the jobs returned after the deadline
     */
    public StepTimeoutException(String step, Duration timeout, String progress, Throwable cause) {
        super(step + " did not finish within stepTimeout = " + describe(timeout) + " (" + progress + "), so "
                + (cause != null ? "its Spark jobs were cancelled and their tasks interrupted."
                        : "it failed, although its Spark jobs returned just after the deadline.") + " A task that never returns is usually a hung "
                + "user function or a stuck disk or network peer: its executor's thread dump (Spark UI, Executors) "
                + "shows where. Checkpoints up to the last finished step are intact; a new fit resumes from them. If "
                + "steps are legitimately this slow, raise TrainerConfig.stepTimeout (Duration.ZERO for no limit).",
                cause);
        this.step = step;
        this.timeout = timeout;
    }

    /** The step, in words, as the Spark UI describes its job. */
    public String step() {
        return step;
    }

    /** The limit that was exceeded. */
    public Duration timeout() {
        return timeout;
    }

    /** In the largest unit that shows it whole: "3 s", "1500 ms", "1 µs", "1 ns". */
    static String describe(Duration d) {
        int nanos = d.getNano();
        if (nanos == 0) {
            return d.getSeconds() + " s";
        }
        if (nanos % 1_000_000 == 0) {
            return d.toMillis() + " ms";
        }
        return nanos % 1000 == 0 ? d.toNanos() / 1000 + " µs" : d.toNanos() + " ns";
    }
}
