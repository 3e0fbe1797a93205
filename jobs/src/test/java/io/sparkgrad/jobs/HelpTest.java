package io.sparkgrad.jobs;

import io.sparkgrad.jobs.JobsTestSupport.Result;
import io.sparkgrad.jobs.cli.Cli;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --help} of every job and the dispatcher (no Spark needed). */
class HelpTest {

    @Test
    void everyJobsHelpListsEveryOptionWithItsDefault() {
        for (Cli cli : List.of(Train.cli(), Evaluate.cli(), Predict.cli())) {
            Result r = JobsTestSupport.run(cli.command(), "--help");
            assertEquals(0, r.code(), r::toString);
            assertEquals("", r.err());
            assertEquals(cli.help(), r.out());
            for (String name : cli.optionNames()) {
                assertTrue(r.out().contains("--" + name + " ") || r.out().contains("--" + name + "\n")
                        || r.out().matches("(?s).*--" + name + " +.*"), () -> "--" + name + " missing from\n" + r.out());
            }
        }
        String train = Train.cli().help();
        for (String d : List.of("--epochs N +passes over the training rows \\(default: 10\\)",
                "--lr RATE +learning rate \\(default: 0.001\\)", "--batch N .*\\(default: 128\\)",
                "--output DIR .*\\(required\\)", "--optimizer NAME .*\\(default: adam\\)",
                "--validation FRACTION .*\\(default: 0.1\\)", "--format FORMAT .*\\(default: auto\\)")) {
            assertTrue(train.matches("(?s).*" + d + ".*"), () -> d + " not in\n" + train);
        }
    }

    @Test
    void mainWithoutAJobPrintsUsageAndFails() {
        Result none = JobsTestSupport.run();
        assertEquals(2, none.code());
        assertTrue(none.err().startsWith("Usage: spark-submit --class io.sparkgrad.jobs.Main"));
        Result help = JobsTestSupport.run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("train") && help.out().contains("evaluate") && help.out().contains("predict"));
    }

    @Test
    void aFailedJobThrowsInsteadOfExitingWhenItRunsInsideAnotherApplication() {
        Main.exit(0, new String[] {"train"}, true);
        Main.exit(0, new String[] {"train"}, false);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Main.exit(2, new String[] {"predict"}, true));
        assertEquals("sparkgrad predict failed with exit status 2 (the reason is on stderr)", e.getMessage());
    }
}
