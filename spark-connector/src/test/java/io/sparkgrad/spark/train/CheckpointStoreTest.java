package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checkpoints are written whole or not at all, carry a checksum of their contents, and a damaged
 * newest one is detected, reported by name and reason, set aside, and the previous one used.
 */
class CheckpointStoreTest {
    @TempDir
    Path tmp;

    private CheckpointStore store() {
        return new CheckpointStore(tmp.toUri().toString(), new Configuration(), 2);
    }

    /** A checkpoint's kind of contents: float32 weights, float64 and int64 state, metadata. */
    static Map<String, Tensor> tensors(long step) {
        Map<String, Tensor> t = new TreeMap<>();
        float[] w = new float[24];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(step + i);
        }
        t.put("model.0.weight", Tensor.of(w, 4, 6));
        t.put("model.0.bias", Tensor.of(new float[] {step, -1, 0.5f, 2}, 4));
        t.put("optimizer.state.0.step", Tensor.of(new double[] {step}, 1));
        t.put("optimizer.index", Tensor.of(new long[] {0, 1, step}, 3));
        return t;
    }

    static Map<String, String> metadata(long step) {
        Map<String, String> m = new TreeMap<>();
        m.put("format", "pt");
        m.put("sparkgrad.step", Long.toString(step));
        m.put("optimizer.optimizer", "Adam");
        return m;
    }

    private Path file(long step) {
        return tmp.resolve(String.format("checkpoint-%012d.safetensors", step));
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted()
                    .collect(Collectors.toList());
        }
    }

    /** Hadoop's local file system keeps its own checksum in a hidden .crc file; drop it, as other file systems have none. */
    private void dropHadoopChecksum(long step) throws IOException {
        Files.deleteIfExists(tmp.resolve("." + file(step).getFileName() + ".crc"));
    }

    private static void assertSameContents(Map<String, Tensor> want, CheckpointStore.Loaded got) {
        assertEquals(want.keySet(), got.contents().tensors().keySet());
        want.forEach((k, v) -> assertArrayEquals(v.toDoubleArray(), got.contents().tensors().get(k).toDoubleArray(), k));
    }

    @Test
    void aSavedCheckpointReadsBackWithItsChecksumAndOnlyTheNewestTwoAreKept() throws IOException {
        CheckpointStore s = store();
        for (long step = 1; step <= 4; step++) {
            s.save(step, tensors(step), metadata(step));
        }
        assertEquals(List.of("checkpoint-000000000003.safetensors", "checkpoint-000000000004.safetensors"), names());
        CheckpointStore.Loaded latest = s.latest();
        assertEquals(4, latest.step());
        assertSameContents(tensors(4), latest);
        String checksum = latest.contents().metadata().get(CheckpointDigest.KEY);
        assertTrue(checksum.matches("crc32c:[0-9a-f]{8}"), checksum);
        assertEquals(CheckpointDigest.of(tensors(4), metadata(4)), checksum);
    }

    @Test
    void aFlippedBitInAWeightIsCaughtByTheChecksumAndTheRunFallsBack() throws IOException {
        CheckpointStore s = store();
        s.save(7, tensors(7), metadata(7));
        s.save(9, tensors(9), metadata(9));
        dropHadoopChecksum(9);
        try (RandomAccessFile f = new RandomAccessFile(file(9).toFile(), "rw")) {
            long last = f.length() - 1; // inside the data section: the reader alone cannot tell
            f.seek(last);
            int b = f.read();
            f.seek(last);
            f.write(b ^ 0x10);
        }
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            CheckpointStore.Loaded loaded = s.latest();
            assertEquals(7, loaded.step());
            assertSameContents(tensors(7), loaded);
            String line = String.join("\n", log.lines());
            assertTrue(line.contains("WARN") && line.contains("checkpoint-000000000009.safetensors")
                    && line.contains("do not match its checksum") && line.contains("falling back to checkpoint-000000000007"),
                    line);
        }
        List<String> left = names();
        assertEquals(2, left.size(), left.toString());
        assertEquals("checkpoint-000000000007.safetensors", left.get(0));
        assertTrue(left.get(1).matches("checkpoint-000000000009\\.safetensors\\.\\d+\\.corrupt"), left.toString());

        // Training goes on from step 7; its next checkpoints are written and pruned as usual,
        // the damaged file stays aside for inspection.
        s.save(8, tensors(8), metadata(8));
        s.save(9, tensors(9), metadata(9));
        assertEquals(9, s.latest().step());
        assertEquals(3, names().size(), names().toString());
    }

    @Test
    void aTruncatedNewestCheckpointIsReportedAndThePreviousOneUsed() throws IOException {
        String log = damageNewestAndFallBack(true, f -> f.setLength(f.length() / 2));
        assertTrue(log.contains("checkpoint-000000000005.safetensors is damaged: not a whole safetensors file"), log);
    }

    @Test
    void damageThatHadoopsOwnChecksumSeesIsReportedAsSuch() throws IOException {
        String log = damageNewestAndFallBack(false, f -> {
            f.seek(20);
            int b = f.read();
            f.seek(20);
            f.write(b ^ 1);
        });
        assertTrue(log.contains("checkpoint-000000000005.safetensors is damaged: the file system's own checksum"), log);
    }

    private interface Damage {
        void apply(RandomAccessFile f) throws IOException;
    }

    /** Saves steps 3 and 5, damages 5, and checks that latest() falls back to 3; returns what was logged. */
    private String damageNewestAndFallBack(boolean dropHadoopChecksum, Damage damage) throws IOException {
        CheckpointStore s = store();
        s.save(3, tensors(3), metadata(3));
        s.save(5, tensors(5), metadata(5));
        if (dropHadoopChecksum) {
            dropHadoopChecksum(5);
        }
        try (RandomAccessFile f = new RandomAccessFile(file(5).toFile(), "rw")) {
            damage.apply(f);
        }
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            assertEquals(3, s.latest().step());
            return String.join("\n", log.lines());
        }
    }

    @Test
    void withEveryCheckpointDamagedTrainingStartsAfreshAndSaysSo() throws IOException {
        CheckpointStore s = store();
        s.save(2, tensors(2), metadata(2));
        dropHadoopChecksum(2);
        Files.write(file(2), new byte[] {1, 2, 3});
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            assertNull(s.latest());
            assertTrue(String.join("\n", log.lines()).contains("no older checkpoint is left"), log.lines().toString());
        }
    }

    @Test
    void readingOneDamagedFileThrowsTheDocumentedException() throws IOException {
        CheckpointStore s = store();
        s.save(1, tensors(1), metadata(1));
        dropHadoopChecksum(1);
        byte[] bytes = Files.readAllBytes(file(1));
        // Change the step in the header's metadata, keeping it valid JSON of the same length.
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\"sparkgrad.step\":\"1\"");
        assertTrue(at > 0, text);
        bytes[at + "\"sparkgrad.step\":\"".length()] = '8';
        Files.write(file(1), bytes);
        CorruptCheckpointException e = assertThrows(CorruptCheckpointException.class,
                () -> s.read(new org.apache.hadoop.fs.Path(file(1).toUri()), 1));
        assertTrue(e.getMessage().contains("checkpoint-000000000001.safetensors")
                && e.getMessage().contains("do not match its checksum"), e.getMessage());
    }

    @Test
    void aTemporaryFileLeftByAKilledWriterIsNeverReadAndIsCleanedUp() throws IOException {
        CheckpointStore s = store();
        s.save(4, tensors(4), metadata(4));
        Path half = tmp.resolve(".checkpoint-000000000006.safetensors.sparkgrad-" + java.util.UUID.randomUUID() + ".tmp");
        Files.write(half, new byte[100]);
        // Another tool's temporary in a shared directory is not ours to delete.
        String theirs = ".part-00000.arrow." + java.util.UUID.randomUUID() + ".tmp";
        Files.write(tmp.resolve(theirs), new byte[10]);
        assertEquals(4, s.latest().step());
        CheckpointStore reopened = store();
        assertTrue(Files.exists(tmp.resolve(theirs)), "another tool's temporary file is left alone");
        Files.delete(tmp.resolve(theirs));
        assertEquals(List.of("checkpoint-000000000004.safetensors"), names());
        assertEquals(4, reopened.latest().step());
    }

    @Test
    void keepingFewerThanTwoIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainerConfig.builder().model(SparkTestSupport.mlp(2, 2, 2)).numClasses(2).keepCheckpoints(1).build());
        assertTrue(e.getMessage().contains("keepCheckpoints must be >= 2"), e.getMessage());
    }

    @Test
    void namesTheStoreDoesNotWriteAreIgnoredNeitherReadNorCountedAmongTheKept() throws IOException {
        CheckpointStore s = store();
        s.save(8, tensors(8), metadata(8));
        byte[] real = Files.readAllBytes(file(8));
        // A step that does not fit a long, and an unpadded name (a checkpoint copied by hand).
        Path huge = tmp.resolve("checkpoint-99999999999999999999.safetensors");
        Path unpadded = tmp.resolve("checkpoint-99.safetensors");
        Files.write(huge, real);
        Files.write(unpadded, real);
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            s = store();
            String logged = String.join("\n", log.lines());
            assertTrue(logged.contains("checkpoint-99.safetensors: not a checkpoint name")
                    && logged.contains("checkpoint-99999999999999999999.safetensors: not a checkpoint name"), logged);
        }
        s.save(12, tensors(12), metadata(12));
        s.save(16, tensors(16), metadata(16));
        assertEquals(List.of("checkpoint-000000000012.safetensors", "checkpoint-000000000016.safetensors",
                "checkpoint-99.safetensors", "checkpoint-99999999999999999999.safetensors"), names());
        assertEquals(16, s.latest().step());
        // With the newest damaged, the one kept before it is there to fall back to.
        dropHadoopChecksum(16);
        Files.write(file(16), new byte[] {1, 2, 3});
        assertEquals(12, s.latest().step());
        String newest = CheckpointStore.newestFile(tmp.toUri().toString(), new Configuration());
        assertTrue(newest.endsWith("/checkpoint-000000000012.safetensors"), newest);
    }

    @Test
    void aStepSavedAgainIsReplacedWholeWithHadoopsChecksumOfTheNewFile() throws IOException {
        CheckpointStore s = store();
        s.save(4, tensors(4), metadata(4));
        s.save(5, tensors(5), metadata(5));
        // The trainer saves the same step twice when an epoch ends on a checkpoint interval.
        Map<String, Tensor> again = tensors(50);
        s.save(5, again, metadata(5));
        assertTrue(Files.exists(tmp.resolve(".checkpoint-000000000005.safetensors.crc")), "Hadoop's checksum is kept");
        try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
            CheckpointStore.Loaded got = s.latest();
            assertEquals(5, got.step());
            assertSameContents(again, got);
            assertTrue(log.lines().isEmpty(), log.lines().toString());
        }
        assertEquals(List.of("checkpoint-000000000004.safetensors", "checkpoint-000000000005.safetensors"), names());
        try (Stream<Path> all = Files.list(tmp)) {
            assertTrue(all.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary file is left");
        }
    }

    /** The trainer's position entries, as it writes them. */
    private static Map<String, String> position(long step, int epoch, int round) {
        Map<String, String> m = metadata(step);
        m.put("sparkgrad.epoch", Integer.toString(epoch));
        m.put("sparkgrad.round", Integer.toString(round));
        m.put("sparkgrad.stoppedEarly", "false");
        return m;
    }

    @Test
    void theResumePositionIsThatOfTheCheckpointATrainerResumesFrom() throws IOException {
        CheckpointStore s = store();
        s.save(3, tensors(3), position(3, 1, 0));
        s.save(5, tensors(5), position(5, 1, 2));
        String dir = tmp.toUri().toString();
        CheckpointStore.Position p = CheckpointStore.resumePosition(dir, new Configuration());
        assertEquals(new CheckpointStore.Position(p.file(), 5, 1, true, false), p);
        assertTrue(p.file().endsWith("checkpoint-000000000005.safetensors"), p.file());
        // One bit of the newest one's epoch ("1" to "q"): its checksum fails, and both fall back to step 3.
        dropHadoopChecksum(5);
        byte[] bytes = Files.readAllBytes(file(5));
        int at = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).indexOf("\"sparkgrad.epoch\":\"1\"");
        bytes[at + "\"sparkgrad.epoch\":\"".length()] = 'q';
        Files.write(file(5), bytes);
        p = CheckpointStore.resumePosition(dir, new Configuration());
        assertEquals(new CheckpointStore.Position(p.file(), 3, 1, false, false), p);
        assertEquals(3, s.latest().step());
    }

    @Test
    void aFileWrittenBesideTheCheckpointsReplacesTheOldOneWhole() throws IOException {
        String dir = tmp.toUri().toString();
        CheckpointStore.writeBeside(dir, "history.json", "[1]".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                new Configuration());
        CheckpointStore.writeBeside(dir, "history.json", "[1,2]".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                new Configuration());
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir, "history.json");
        try (java.io.InputStream in = p.getFileSystem(new Configuration()).open(p)) {
            assertEquals("[1,2]", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        assertEquals(List.of("history.json"), names());
    }
}
