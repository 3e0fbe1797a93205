package io.sparkgrad.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import io.sparkgrad.jobs.JobsTestSupport.Result;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --resume} over a damaged checkpoint directory, on real Spark with real files: the job
 * continues from the checkpoint the trainer really resumes from (the newest intact one), says so, and
 * its metrics.json agrees; a damaged history beside the checkpoints is reported, not fatal.
 */
class TrainResumeFaultsTest {
    /** The checkpoint directory of a finished 2-epoch run: checkpoints at steps 16 and 20 (10 steps an epoch). */
    private static Path finished;
    /** The arguments every run shares. */
    private static List<String> run;
    private static SparkSession spark;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where the data and the finished run live. */
    @TempDir
    static Path shared;
    /** Where one test copies the checkpoints to damage them. */
    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        spark = JobsTestSupport.session("TrainResumeFaultsTest");
        String data = new Blobs(480, 6, 3, 11).writeCsv(shared.resolve("blobs.csv")).toString();
        run = List.of("--input", data, "--layers", "8", "--batch", "48", "--local-steps", "1", "--validation", "0",
                "--checkpoint-interval", "4", "--progress", "lines");
        finished = shared.resolve("ckpt");
        Result r = train("--epochs", "2", "--checkpoint-dir", finished.toString(), "--output",
                shared.resolve("out").toString());
        assertEquals(0, r.code(), r::toString);
        assertEquals(List.of("checkpoint-000000000016.safetensors", "checkpoint-000000000020.safetensors"),
                checkpoints(finished));
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Result train(String... args) {
        List<String> all = new ArrayList<>(List.of("train"));
        all.addAll(run);
        all.addAll(List.of(args));
        return JobsTestSupport.run(all.toArray(new String[0]));
    }

    private static List<String> checkpoints(Path dir) throws IOException {
        return JobsTestSupport.list(dir).stream().filter(n -> n.matches("checkpoint-\\d+\\.safetensors")).toList();
    }

    /** A copy of the finished run's checkpoint directory (Hadoop's .crc files too), to damage. */
    private Path copyOfFinished() throws IOException {
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir);
        try (Stream<Path> s = Files.list(finished)) {
            for (Path p : s.toList()) {
                Files.copy(p, dir.resolve(p.getFileName()));
            }
        }
        return dir;
    }

    /** Removes Hadoop's own checksum of {@code file}, so that only the checkpoint's own checksum can see damage. */
    private static void dropHadoopChecksum(Path file) throws IOException {
        Files.delete(file.resolveSibling("." + file.getFileName() + ".crc"));
    }

    /** Resumes the damaged copy for a third epoch; checks it went on from step 16 and that metrics.json says so. */
    private Result resumeExpectingStep16(Path ckpt) throws IOException {
        Path out = tmp.resolve("resumed");
        Result r = train("--epochs", "3", "--checkpoint-dir", ckpt.toString(), "--resume", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.err().contains("resuming " + ckpt + " at step 16 (1 of 3 epochs done, continuing inside epoch 2)"),
                r::toString);
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(16, m.get("resumed_from_step").asLong(), m::toString);
        assertEquals(List.of(1, 2, 3), epochs(m.get("epochs")), m::toString);
        assertEquals(30, m.get("steps").asLong(), m::toString);
        // The history beside the checkpoints agrees, and no temporary file is left behind.
        assertEquals(List.of(1, 2, 3), epochs(JSON.readTree(ckpt.resolve(Train.HISTORY_FILE).toFile())));
        assertFalse(JobsTestSupport.list(ckpt).stream().anyMatch(n -> n.endsWith(".tmp")), ckpt::toString);
        return r;
    }

    private static List<Integer> epochs(JsonNode list) {
        List<Integer> out = new ArrayList<>();
        list.forEach(e -> out.add(e.get("epoch").asInt()));
        return out;
    }

    @Test
    void aTruncatedNewestCheckpointFallsBackToThePreviousOne() throws Exception {
        Path ckpt = copyOfFinished();
        Path newest = ckpt.resolve("checkpoint-000000000020.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        resumeExpectingStep16(ckpt);
    }

    /** One bit in the newest checkpoint's epoch ("2" to "6", or to "r", which is not a number) is caught by its checksum. */
    @ParameterizedTest
    @ValueSource(chars = {'6', 'r'})
    void aFlippedBitInTheNewestCheckpointsEpochFallsBack(char flipped) throws Exception {
        Path ckpt = copyOfFinished();
        Path newest = ckpt.resolve("checkpoint-000000000020.safetensors");
        dropHadoopChecksum(newest);
        byte[] bytes = Files.readAllBytes(newest);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\"sparkgrad.epoch\":\"2\"");
        assertTrue(at > 0, "no epoch entry");
        bytes[at + "\"sparkgrad.epoch\":\"".length()] = (byte) flipped;
        Files.write(newest, bytes);
        Result r = resumeExpectingStep16(ckpt);
        assertFalse(r.err().contains("Exception"), r::toString);
    }

    @Test
    void aFlippedBitInAWeightFallsBackAndTheJobReportsTheStepReallyUsed() throws Exception {
        Path ckpt = copyOfFinished();
        Path newest = ckpt.resolve("checkpoint-000000000020.safetensors");
        dropHadoopChecksum(newest);
        byte[] bytes = Files.readAllBytes(newest);
        bytes[bytes.length - 3] ^= 0x01;
        Files.write(newest, bytes);
        resumeExpectingStep16(ckpt);
        assertTrue(JobsTestSupport.list(ckpt).stream().anyMatch(n -> n.startsWith("checkpoint-000000000020.safetensors.")
                && n.endsWith(".corrupt")), ckpt::toString);
    }

    /** Renaming one key, or cutting the file in half: a warning naming the file and what is wrong, and training goes on. */
    @ParameterizedTest
    @ValueSource(strings = {"renamed key", "cut in half"})
    void aDamagedHistoryIsReportedAndTheRunContinuesFromItsCheckpoint(String damage) throws Exception {
        Path ckpt = copyOfFinished();
        Path history = ckpt.resolve(Train.HISTORY_FILE);
        Files.deleteIfExists(ckpt.resolve("." + Train.HISTORY_FILE + ".crc"));
        String text = Files.readString(history);
        Files.writeString(history, damage.equals("renamed key") ? text.replaceFirst("\"epoch\"", "\"epocx\"")
                : text.substring(0, text.length() / 2));
        Path out = tmp.resolve("resumed");
        Result r = train("--epochs", "3", "--checkpoint-dir", ckpt.toString(), "--resume", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.err().contains("warning: ignoring the epoch history "), r::toString);
        assertTrue(r.err().contains(Train.HISTORY_FILE + ": " + (damage.equals("renamed key")
                ? "an epoch's entry has no \"epoch\"" : "not valid JSON")), r::toString);
        assertTrue(r.err().contains("resuming " + ckpt + " at step 20 (2 of 3 epochs done)"), r::toString);
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals(List.of(3), epochs(m.get("epochs")), m::toString);
        assertEquals(20, m.get("resumed_from_step").asLong(), m::toString);
        assertEquals(List.of(3), epochs(JSON.readTree(history.toFile())), "the history is whole again");
    }
}
