package io.sparkgrad.jobs;

import io.sparkgrad.jobs.cli.Cli;

import java.util.List;

/** The command lines the jobs declare, for tests outside this package (the argument fuzz test). */
public final class JobClis {
    private JobClis() {
    }

    /** train, evaluate and predict, as {@code spark-submit … JOB --help} shows them. */
    public static List<Cli> all() {
        return List.of(Train.cli(), Evaluate.cli(), Predict.cli());
    }
}
