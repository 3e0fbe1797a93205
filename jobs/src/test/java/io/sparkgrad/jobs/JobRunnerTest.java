package io.sparkgrad.jobs;

import io.sparkgrad.jobs.data.BadInputException;
import org.apache.spark.SparkException;
import org.apache.spark.sql.errors.QueryExecutionErrors;
import org.junit.jupiter.api.Test;

import java.net.SocketTimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which failures the jobs report as the input's fault (exit 2, one line) and which as their own (exit 1). */
class JobRunnerTest {
    private static Throwable jobFailure(Throwable readFailure) {
        return new SparkException("Job aborted due to stage failure: Task 0 in stage 3.0 failed", readFailure);
    }

    @Test
    void aFileWhoseContentDoesNotParseIsTheInputsFault() {
        Throwable t = jobFailure(QueryExecutionErrors.cannotReadFilesError(
                new NumberFormatException("For input string: \"x\""), "hdfs://nn/data/part-00007.csv"));
        Throwable usage = JobRunner.usageCause(t);
        assertTrue(usage instanceof BadInputException, String.valueOf(usage));
        assertEquals("--input: Encountered error while reading file hdfs://nn/data/part-00007.csv: For input string: \"x\"",
                usage.getMessage());
    }

    @Test
    void aReadThatFailedOnTheNetworkIsNot() {
        Throwable t = jobFailure(QueryExecutionErrors.cannotReadFilesError(new SocketTimeoutException("Read timed out"),
                "hdfs://nn/data/part-00007.parquet"));
        assertNull(JobRunner.usageCause(t), "a timeout may pass on a retry: exit 1 with the stack trace");
    }
}
