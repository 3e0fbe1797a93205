package io.sparkgrad.jobs.train;

import io.sparkgrad.spark.train.EpochStats;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The console progress: a bar redrawn in place on a terminal, a line per quarter epoch otherwise. */
class ProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String printed() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static EpochStats stats(int epoch) {
        return new EpochStats(epoch, 100L * epoch, 0.5 / epoch, 0.4, 0.875, "accuracy", 12_800, 3200, 0.5, 4.2);
    }

    @Test
    void linesModePrintsQuartersAndTheEpochSummary() {
        Progress p = new Progress(out, Progress.Mode.LINES, 12_800, 2);
        for (int s = 1; s <= 100; s++) {
            p.step(1, s, 100);
        }
        p.epochDone(stats(1), 0.001);
        String[] lines = printed().split("\n");
        assertEquals(4, lines.length, printed());
        assertTrue(lines[0].matches("epoch 1/2  25% 3200/12\\.8k rows  \\S+ rows/s  \\d+:\\d\\d left"), lines[0]);
        assertTrue(lines[1].startsWith("epoch 1/2  50% 6400/12.8k rows"), lines[1]);
        assertTrue(lines[2].startsWith("epoch 1/2  75% 9600/12.8k rows"), lines[2]);
        assertEquals("epoch 1/2  loss 0.5000  val_loss 0.4000  val_accuracy 0.8750  3200 rows/s  0:04  lr 0.00100", lines[3]);
        assertFalse(printed().contains("\r"));
    }

    @Test
    void barModeRedrawsOneLineAndShowsThePreviousLoss() {
        Progress p = new Progress(out, Progress.Mode.BAR, 12_800, 2);
        p.step(1, 1, 4);
        p.step(1, 4, 4);
        p.epochDone(stats(1), 0.01);
        p.step(1, 4, 4); // a late listener event of the finished epoch draws nothing
        p.started(2, 1);
        p.step(2, 2, 4);
        String s = printed();
        assertTrue(s.startsWith("\repoch 1/2 [######..................] 3200/12.8k rows"), s);
        assertTrue(s.contains("\repoch 1/2 [########################] 12.8k/12.8k rows"), s);
        assertTrue(s.contains("\repoch 1/2  loss 0.5000") && s.contains("lr 0.0100\n\repoch 2/2 ["), s);
        assertTrue(s.endsWith("prev loss 0.5000"), s);
        assertTrue(s.contains("\repoch 2/2 [############............] 6400/12.8k rows"), s);
    }

    @Test
    void theEpochsRunningLossFromTheJobDescriptionReplacesThePreviousLoss() {
        Progress p = new Progress(out, Progress.Mode.LINES, 12_800, 2);
        p.step(1, 4, 4);
        p.epochDone(stats(1), 0.01);
        p.onJobStart(jobStart(10, "sparkgrad epoch 2/2 step 1/4 (global step 5)"));
        p.onJobEnd(new SparkListenerJobEnd(10, 0L, JobSucceeded$.MODULE$));
        p.onJobStart(jobStart(11, "sparkgrad epoch 2/2 step 2/4 (global step 6) running loss 0.2500"));
        p.onJobEnd(new SparkListenerJobEnd(11, 0L, JobSucceeded$.MODULE$));
        p.onJobStart(jobStart(12, "sparkgrad epoch 2/2 step 3/4 (global step 7) running loss 0.2250"));
        p.onJobEnd(new SparkListenerJobEnd(12, 0L, JobSucceeded$.MODULE$));
        String[] lines = printed().split("\n");
        assertTrue(lines[lines.length - 3].endsWith("prev loss 0.5000"), printed()); // after step 1: none yet
        assertTrue(lines[lines.length - 2].endsWith("  loss 0.2500"), printed());
        assertTrue(lines[lines.length - 1].endsWith("  loss 0.2250"), printed());
    }

    private static SparkListenerJobStart jobStart(int id, String description) {
        Properties properties = new Properties();
        properties.setProperty("spark.job.description", description);
        return new SparkListenerJobStart(id, 0L, scala.collection.immutable.List$.MODULE$.empty(), properties);
    }

    @Test
    void noneModePrintsNothing() {
        Progress p = new Progress(out, Progress.Mode.NONE, 100, 1);
        p.step(1, 1, 1);
        p.epochDone(stats(1), 0.1);
        assertEquals("", printed());
    }

    @Test
    void countsAndClocks() {
        assertEquals("9999", Progress.count(9999));
        assertEquals("54.0k", Progress.count(54_000));
        assertEquals("12.5M", Progress.count(12_500_000));
        assertEquals("0:07", Progress.clock(7.4));
        assertEquals("2:05", Progress.clock(125));
        assertEquals("1:00:01", Progress.clock(3601));
    }
}
