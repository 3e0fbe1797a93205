package io.sparkgrad.spark.train;

import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.nn.Module;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run stopped and restarted on the same checkpoint directory ends exactly where an uninterrupted run ends. */
class CheckpointResumeTest {
    private static SparkSession spark;
    private static Dataset<Row> df;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("CheckpointResumeTest");
        df = new SparkTestSupport.Blobs(6, 3, 1.5, 21).frame(spark, 300, 3);
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    /** Adam (optimizer state), held-out validation with early stopping (best-parameter state), 6 steps per epoch. */
    private TrainerConfig cfg(String dir) {
        return TrainerConfig.builder().model(SparkTestSupport.mlp(6, 8, 3)).numClasses(3)
                .optimizer(OptimizerSpec.adam(0.02)).batchSize(40).localSteps(1).maxEpochs(3).seed(9).validationFraction(0.2)
                .earlyStoppingPatience(5).checkpointDir(tmp.resolve(dir).toUri().toString()).checkpointInterval(4)
                .build();
    }

    private static float[] params(TrainingResult r) {
        return flat(r.model());
    }

    private static float[] flat(Module m) {
        return new ParamLayout(m).flatten();
    }

    private List<String> files(String dir) throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve(dir))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void aStoppedRunResumesToTheSameParametersAsAnUninterruptedOne() throws IOException {
        TrainingResult full = DistributedTrainer.fit(df, cfg("full"));
        assertEquals(18, full.steps());
        assertEquals(0, full.resumedFromStep());

        TrainingResult first = DistributedTrainer.fit(df, cfg("resumed").toBuilder().maxSteps(7).build());
        assertEquals(7, first.steps());
        assertEquals(1, first.history().size(), "one whole epoch before the stop");
        assertEquals(List.of("checkpoint-000000000004.safetensors", "checkpoint-000000000007.safetensors"),
                files("resumed"), "the interval checkpoint at step 4 and the one written at the stop; no temp files");

        TrainingResult second = DistributedTrainer.fit(df, cfg("resumed"));
        assertEquals(7, second.resumedFromStep());
        assertEquals(18, second.steps());
        assertEquals(2, second.history().size(), "epochs 2 and 3");
        assertEquals(full.history().get(2).trainLoss(), second.history().get(1).trainLoss(),
                "epoch 3's loss, to the last bit");
        assertEquals(full.history().get(2).validationLoss(), second.history().get(1).validationLoss());
        assertArrayEquals(params(full), params(second), "bit-identical parameters");

        TrainingResult again = DistributedTrainer.fit(df, cfg("resumed"));
        assertEquals(18, again.resumedFromStep());
        assertTrue(again.history().isEmpty(), "a finished run has nothing left to do");
        assertArrayEquals(params(full), params(again));
    }

    @Test
    void aCrashAfterAnIntervalCheckpointLosesOnlyTheStepsSinceIt() throws IOException {
        TrainingResult full = DistributedTrainer.fit(df, cfg("full"));
        DistributedTrainer.fit(df, cfg("crash").toBuilder().maxSteps(11).build());
        assertEquals(List.of("checkpoint-000000000008.safetensors", "checkpoint-000000000011.safetensors"),
                files("crash"));
        // The process "died" before writing step 11: only the interval checkpoint of step 8 is there.
        Files.delete(tmp.resolve("crash").resolve("checkpoint-000000000011.safetensors"));
        TrainingResult resumed = DistributedTrainer.fit(df, cfg("crash"));
        assertEquals(8, resumed.resumedFromStep());
        assertArrayEquals(params(full), params(resumed));
    }

    @Test
    void aDamagedNewestCheckpointIsReportedSetAsideAndTheRunResumesFromThePreviousOne() throws IOException {
        TrainingResult full = DistributedTrainer.fit(df, cfg("full"));
        DistributedTrainer.fit(df, cfg("damaged").toBuilder().maxSteps(11).build());
        Path dir = tmp.resolve("damaged");
        Path newest = dir.resolve("checkpoint-000000000011.safetensors");
        // Damage that only the checksum can see: one bit of the last weight value. Hadoop's own .crc
        // (the local file system keeps one; object stores do not) goes too, so the trainer's check is
        // the one that catches it.
        Files.delete(dir.resolve(".checkpoint-000000000011.safetensors.crc"));
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 2] ^= 0x01;
        Files.write(newest, bytes);

        TrainingResult resumed;
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            resumed = DistributedTrainer.fit(df, cfg("damaged"));
            String lines = String.join("\n", log.lines());
            assertTrue(lines.contains("checkpoint-000000000011.safetensors is damaged: its contents do not match its "
                    + "checksum") && lines.contains("falling back to checkpoint-000000000008.safetensors"), lines);
        }
        assertEquals(8, resumed.resumedFromStep());
        assertArrayEquals(params(full), params(resumed), "the same parameters as the uninterrupted run");
        assertTrue(files("damaged").stream().anyMatch(n -> n.matches("checkpoint-000000000011\\.safetensors\\.\\d+\\.corrupt")),
                "the damaged file is kept aside: " + files("damaged"));
    }

    @Test
    void localStepsWithAnOuterMomentumResumeExactlyToo() {
        TrainerConfig k = cfg("k-full").toBuilder().localSteps(2).outerOptimizer(OptimizerSpec.nesterovOuter())
                .optimizer(OptimizerSpec.sgd(0.1)).build();
        TrainingResult full = DistributedTrainer.fit(df, k);
        String dir = tmp.resolve("k-resumed").toUri().toString();
        DistributedTrainer.fit(df, k.toBuilder().checkpointDir(dir).maxSteps(4).build());
        TrainingResult resumed = DistributedTrainer.fit(df, k.toBuilder().checkpointDir(dir).build());
        assertEquals(4, resumed.resumedFromStep());
        assertEquals(full.steps(), resumed.steps());
        assertArrayEquals(params(full), params(resumed));
    }

    @Test
    void checkpointsAreSafetensorsAndRefuseAnotherRun() throws IOException {
        DistributedTrainer.fit(df, cfg("one").toBuilder().maxSteps(2).build());
        SafeTensors.Contents c = SafeTensors.load(tmp.resolve("one").resolve("checkpoint-000000000002.safetensors"));
        assertTrue(c.tensors().containsKey("model.0.weight"), c.tensors().keySet().toString());
        assertTrue(c.tensors().containsKey("optimizer.state.0.exp_avg"), c.tensors().keySet().toString());
        assertEquals("2", c.metadata().get("sparkgrad.step"));
        assertEquals("Adam", c.metadata().get("optimizer.optimizer"));

        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DistributedTrainer.fit(df, cfg("one").toBuilder().batchSize(30).build()));
        assertTrue(e.getMessage().contains("batchSize") && e.getMessage().contains("checkpointDir"), e.getMessage());
    }
}
