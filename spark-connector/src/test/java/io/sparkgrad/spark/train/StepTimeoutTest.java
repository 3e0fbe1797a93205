package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import org.apache.spark.SparkStatusTracker;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A step whose task never returns fails after {@link TrainerConfig#stepTimeout()} with an error
 * that names the step and the setting, instead of hanging; the stalled task is interrupted, Spark
 * stays usable, and the checkpoints written before the stall let a new fit resume to the same
 * parameters as a run that never stalled.
 */
class StepTimeoutTest {
    private static SparkSession spark;
    private static Dataset<Row> df;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("StepTimeoutTest");
        df = new SparkTestSupport.Blobs(6, 3, 1.5, 21).frame(spark, 300, 3);
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    /**
     * An MLP whose {@code stallAt}-th forward pass in this JVM sleeps until it is
     * interrupted: a task that never returns. (Local mode: executors share the driver's JVM, so one
     * counter sees every task.)
     */
    static final class Stalling extends Module {
        static final AtomicInteger CALLS = new AtomicInteger();
        static final AtomicInteger INTERRUPTED = new AtomicInteger();
        static volatile int stallAt = Integer.MAX_VALUE;
        private final Sequential net = new Sequential(new Linear(6, 8), new ReLU(), new Linear(8, 3));

        Stalling() {
            registerModule("net", net);
        }

        @Override
        public Tensor forward(Tensor input) {
            if (CALLS.incrementAndGet() == stallAt) {
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    INTERRUPTED.incrementAndGet();
                    Thread.currentThread().interrupt();
                    throw new RuntimeException("stalled forward pass interrupted", e);
                }
            }
            return net.forward(input);
        }
    }

    private TrainerConfig cfg(Duration timeout) {
        return TrainerConfig.builder().model(Stalling::new).numClasses(3).optimizer(OptimizerSpec.adam(0.02))
                .batchSize(40).localSteps(1).maxEpochs(2).seed(9).stepTimeout(timeout)
                .checkpointDir(tmp.resolve("ckpt").toUri().toString()).checkpointInterval(2).build();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStalledStepFailsAfterTheTimeoutNamingTheStepAndTheSetting() {
        Stalling.stallAt = Integer.MAX_VALUE;
        TrainingResult undisturbed = DistributedTrainer.fit(df, cfg(Duration.ofSeconds(60)).toBuilder()
                .checkpointDir(null).build());

        // 3 partitions, one forward per partition per step: the 14th call is in step 5.
        Stalling.CALLS.set(0);
        Stalling.INTERRUPTED.set(0);
        Stalling.stallAt = 14;
        long t0 = System.nanoTime();
        StepTimeoutException e = assertThrows(StepTimeoutException.class,
                () -> DistributedTrainer.fit(df, cfg(Duration.ofSeconds(3))));
        double seconds = (System.nanoTime() - t0) / 1e9;
        String m = e.getMessage();
        assertTrue(m.startsWith("sparkgrad epoch 1/2 step 5/8 (global step 5) did not finish within stepTimeout = 3 s"), m);
        assertTrue(java.util.regex.Pattern.compile("\\(stage \\d+: partition \\d on executor driver \\(host [^)]+\\) "
                + "running for [0-9.]+ s; 2 of 3 tasks finished\\)").matcher(m).find(), m);
        assertTrue(m.contains("TrainerConfig.stepTimeout"), m);
        assertEquals(Duration.ofSeconds(3), e.timeout());
        assertTrue(seconds < 30, "failed after " + seconds + " s, not hanging");

        // The stalled task was interrupted and Spark runs jobs again.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (Stalling.INTERRUPTED.get() == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertTrue(Stalling.INTERRUPTED.get() >= 1, "the stalled task was interrupted");
        assertEquals(300, df.count());

        // Checkpoint of step 4 survived; a new fit resumes from it to the undisturbed parameters.
        Stalling.stallAt = Integer.MAX_VALUE;
        TrainingResult resumed = DistributedTrainer.fit(df, cfg(Duration.ofSeconds(60)));
        assertEquals(4, resumed.resumedFromStep());
        assertArrayEquals(new ParamLayout(undisturbed.model()).flatten(), new ParamLayout(resumed.model()).flatten());
    }

    /** Waits at most 20 s for {@code done}; returns it. */
    private static boolean await(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return done.getAsBoolean();
    }

    /** Spark runs no job and no task, as its status tracker sees them (within 20 s). */
    private static void assertNothingKeepsRunning() throws InterruptedException {
        SparkStatusTracker status = spark.sparkContext().statusTracker();
        assertTrue(await(() -> status.getActiveJobIds().length == 0
                && Arrays.stream(status.getExecutorInfos()).allMatch(x -> x.numRunningTasks() == 0)),
                "a job or task of the timed-out step still runs");
    }

    /**
     * A deadline shorter than submitting the step's job passes before the job exists, so cancelling
     * the step's jobs at that moment finds nothing: the step must fail all the same, not finish.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aDeadlineThatPassesBeforeTheJobIsSubmittedStillFailsTheStep() throws InterruptedException {
        Stalling.stallAt = Integer.MAX_VALUE;
        StepTimeoutException e = assertThrows(StepTimeoutException.class,
                () -> DistributedTrainer.fit(df, cfg(Duration.ofNanos(1)).toBuilder().checkpointDir(null).build()));
        String m = e.getMessage();
        assertTrue(m.startsWith("sparkgrad epoch 1/2 step 1/8 (global step 1) did not finish within stepTimeout = 1 ns"),
                m);
        assertEquals(Duration.ofNanos(1), e.timeout());
        // What the step was doing is one of the two states a step can be in before its tasks run.
        assertTrue(m.contains("(no job of the step had been seen to start: it was still being prepared or submitted)")
                || m.contains("(no task of the step was running: it was waiting for executors or for results)"), m);
        assertNothingKeepsRunning();
        assertEquals(300, df.count());
    }

    /**
     * A job the step submits after its deadline passed is cancelled as it starts: with a task that
     * never returns, the step fails promptly instead of hanging, and the task is interrupted.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aJobSubmittedAfterTheDeadlineIsCancelled() throws InterruptedException {
        Stalling.CALLS.set(0);
        Stalling.INTERRUPTED.set(0);
        Stalling.stallAt = 1;
        try {
            StepTimeoutException e = assertThrows(StepTimeoutException.class, () -> DistributedTrainer.fit(df,
                    cfg(Duration.ofNanos(1000)).toBuilder().checkpointDir(null).build()));
            assertTrue(e.getMessage().startsWith("sparkgrad epoch 1/2 step 1/8 (global step 1) did not finish within "
                    + "stepTimeout = 1 µs"), e.getMessage());
            assertNothingKeepsRunning();
            // The stalling forward pass ran if the job's tasks started before it was cancelled; if so, it was interrupted.
            assertTrue(await(() -> Stalling.INTERRUPTED.get() == Math.min(1, Stalling.CALLS.get())),
                    "the stalled task was interrupted");
        } finally {
            Stalling.stallAt = Integer.MAX_VALUE;
        }
        assertEquals(300, df.count());
    }

    @Test
    void stepsWithinTheTimeoutLeaveNoTraceAndZeroMeansNoLimit() {
        Stalling.stallAt = Integer.MAX_VALUE;
        String before = spark.sparkContext().getLocalProperty("spark.job.interruptOnCancel");
        TrainingResult limited = DistributedTrainer.fit(df, cfg(Duration.ofSeconds(60)).toBuilder().checkpointDir(null).build());
        TrainingResult unlimited = DistributedTrainer.fit(df, cfg(Duration.ZERO).toBuilder().checkpointDir(null).build());
        assertArrayEquals(new ParamLayout(limited.model()).flatten(), new ParamLayout(unlimited.model()).flatten());
        assertEquals(before, spark.sparkContext().getLocalProperty("spark.job.interruptOnCancel"));
        assertFalse(spark.sparkContext().getJobTags().exists(t -> t.contains("-step-")), "job tags removed");
        assertEquals(TrainerConfig.DEFAULT_STEP_TIMEOUT, TrainerConfig.builder().model(Stalling::new).numClasses(3)
                .build().stepTimeout());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> cfg(Duration.ofSeconds(-1)));
        assertTrue(bad.getMessage().contains("stepTimeout"), bad.getMessage());
    }

    @Test
    void theMessageSaysWhetherTheJobsWereCancelledOrReturnedLate() {
        String cancelled = new StepTimeoutException("step 3", Duration.ofMillis(1500), "stage 2: …",
                new RuntimeException("Job 7 cancelled")).getMessage();
        assertTrue(cancelled.startsWith("step 3 did not finish within stepTimeout = 1500 ms (stage 2: …), so its Spark "
                + "jobs were cancelled and their tasks interrupted."), cancelled);
        String late = new StepTimeoutException("step 3", Duration.ofSeconds(2), "stage 2: …", null).getMessage();
        assertTrue(late.startsWith("step 3 did not finish within stepTimeout = 2 s (stage 2: …), so it failed, although "
                + "its Spark jobs returned just after the deadline."), late);
        assertEquals("250 µs", StepTimeoutException.describe(Duration.ofNanos(250_000)));
        assertEquals("7 ns", StepTimeoutException.describe(Duration.ofNanos(7)));
    }
}
