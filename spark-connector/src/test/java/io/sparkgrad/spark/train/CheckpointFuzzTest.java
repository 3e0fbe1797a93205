package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of checkpoint files: a real checkpoint (as {@link CheckpointStore#save} writes it)
 * is mutated thousands of times (bit flips, overwritten and swapped bytes, truncation, appended and
 * inserted bytes, header lengths and header numbers replaced by huge, negative and boundary values,
 * JSON punctuation, whitespace-only changes) and each mutant read back with
 * {@link CheckpointStore#read}. Every read must end in one of two ways:
 * <ul>
 *   <li>a {@link CorruptCheckpointException} whose message names the file and says it is damaged, or</li>
 *   <li>contents equal, bit for bit, to what was written (a mutation that changed nothing a reader
 *       sees, such as one space of header padding replaced by a tab).</li>
 * </ul>
 * Any other exception fails the test, as does a read that allocates more than a small bound
 * (a header that claims a huge tensor must not make the reader allocate it). The seed and
 * mutation are in every failure message, so a failure replays exactly.
 */
class CheckpointFuzzTest {
    private static final long SEED = 0x5EED_C4EC_F00DL;
    private static final int MUTANTS = 6000;
    /** Far above what reading a 1 KiB file needs (Hadoop's stream buffers and the parse), far below any tensor a lying header could claim. */
    private static final long ALLOCATION_LIMIT = 8L << 20;

    @TempDir
    Path tmp;

    private enum Mutation {
        FLIP_BIT, SET_BYTE, SET_RUN, ZERO_RUN, SWAP_BYTES, COPY_RANGE, TRUNCATE, APPEND, INSERT_BYTE, DELETE_BYTE,
        DUPLICATE_RANGE, HEADER_LENGTH, HEADER_NUMBER, HEADER_PUNCTUATION, PADDING_WHITESPACE
    }

    private static final long[] INTERESTING_LENGTHS = {0, 1, 7, 8, 9, 255, 4096, Integer.MAX_VALUE,
        Integer.MAX_VALUE + 1L, 1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE, -1, Long.MIN_VALUE, 100_000_000};
    private static final String[] INTERESTING_NUMBERS = {"0", "1", "-1", "2", "255", "65536", "2147483647",
        "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "99999999999999999999999", "1e9", "1.5", "-0", "00", "0x10", ""};
    private static final byte[] PUNCTUATION = "{}[]\",:\\ \u0000".getBytes(StandardCharsets.ISO_8859_1);

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void everyMutantIsRejectedClearlyOrReadsBackExactly() throws IOException {
        Path dir = tmp.resolve("store");
        CheckpointStore store = new CheckpointStore(dir.toUri().toString(), new Configuration(), 2);
        Map<String, Tensor> tensors = CheckpointStoreTest.tensors(3);
        Map<String, String> metadata = CheckpointStoreTest.metadata(3);
        store.save(1, tensors, metadata);
        Path file = dir.resolve("checkpoint-000000000001.safetensors");
        Files.deleteIfExists(dir.resolve(".checkpoint-000000000001.safetensors.crc")); // as on file systems without one
        byte[] original = Files.readAllBytes(file);
        int headerEnd = 8 + (int) ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong();
        org.apache.hadoop.fs.Path hadoopPath = new org.apache.hadoop.fs.Path(file.toUri());
        Map<String, String> expectedMetadata = store.read(hadoopPath, 1).contents().metadata();

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SplittableRandom random = new SplittableRandom(SEED);
        Map<Mutation, int[]> outcomes = new TreeMap<>(); // {rejected, identical}
        int checksumCaught = 0;
        long maxAllocated = 0;
        for (int i = 0; i < MUTANTS; i++) {
            Mutation kind = Mutation.values()[random.nextInt(Mutation.values().length)];
            List<String> how = new ArrayList<>();
            byte[] mutant = mutate(original, headerEnd, kind, random, how);
            String replay = "mutant " + i + " of seed " + Long.toHexString(SEED) + ": " + kind + " " + how;
            Files.write(file, mutant);
            long before = threads.getCurrentThreadAllocatedBytes();
            int[] tally = outcomes.computeIfAbsent(kind, k -> new int[2]);
            try {
                CheckpointStore.Loaded loaded = store.read(hadoopPath, 1);
                assertEquals(expectedMetadata, loaded.contents().metadata(), replay);
                assertEquals(tensors.keySet(), loaded.contents().tensors().keySet(), replay);
                for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                    Tensor got = loaded.contents().tensors().get(e.getKey());
                    assertArrayEquals(e.getValue().shape(), got.shape(), replay);
                    assertEquals(e.getValue().dtype(), got.dtype(), replay);
                    assertArrayEquals(e.getValue().toDoubleArray(), got.toDoubleArray(), replay);
                }
                tally[1]++;
            } catch (CorruptCheckpointException e) {
                assertTrue(e.getMessage().startsWith("checkpoint " + hadoopPath + " is damaged: ")
                        && e.getMessage().length() > 60, replay + ": unclear message " + e.getMessage());
                if (e.getMessage().contains("do not match its checksum")) {
                    checksumCaught++;
                }
                tally[0]++;
            } catch (Exception | Error e) {
                throw new AssertionError(replay + ": undocumented " + e, e);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            maxAllocated = Math.max(maxAllocated, allocated);
            if (allocated > ALLOCATION_LIMIT) {
                fail(replay + ": reading a " + mutant.length + "-byte file allocated " + allocated + " bytes");
            }
        }
        int rejected = outcomes.values().stream().mapToInt(t -> t[0]).sum();
        int identical = outcomes.values().stream().mapToInt(t -> t[1]).sum();
        StringBuilder report = new StringBuilder("checkpoint fuzz: " + MUTANTS + " mutants of a " + original.length
                + "-byte checkpoint, seed " + Long.toHexString(SEED) + ": " + rejected + " rejected as damaged ("
                + checksumCaught + " of them by the content checksum alone), " + identical
                + " read back identical; largest allocation of one read " + maxAllocated + " bytes");
        outcomes.forEach((k, t) -> report.append("\n  ").append(k).append(": rejected ").append(t[0])
                .append(", identical ").append(t[1]));
        System.out.println(report);
        assertEquals(MUTANTS, rejected + identical);
        assertTrue(checksumCaught > 100, "the checksum, not only the parser, caught damage: " + report);
        assertTrue(outcomes.get(Mutation.PADDING_WHITESPACE)[1] > 0, "harmless changes read back: " + report);
        assertTrue(outcomes.get(Mutation.HEADER_LENGTH)[0] > 0 && outcomes.get(Mutation.TRUNCATE)[0] > 0, report.toString());
    }

    private static byte[] mutate(byte[] original, int headerEnd, Mutation kind, SplittableRandom r, List<String> how) {
        byte[] b = original.clone();
        int n = b.length;
        switch (kind) {
            case FLIP_BIT: {
                int at = r.nextInt(n);
                int bit = r.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                how.add("byte " + at + " bit " + bit);
                return b;
            }
            case SET_BYTE: {
                int at = r.nextInt(n);
                b[at] = (byte) r.nextInt(256);
                how.add("byte " + at + " = " + (b[at] & 0xff));
                return b;
            }
            case SET_RUN:
            case ZERO_RUN: {
                int at = r.nextInt(n);
                int len = Math.min(n - at, 1 + r.nextInt(16));
                for (int k = at; k < at + len; k++) {
                    b[k] = kind == Mutation.ZERO_RUN ? 0 : (byte) r.nextInt(256);
                }
                how.add("bytes [" + at + ", " + (at + len) + ")");
                return b;
            }
            case SWAP_BYTES: {
                int x = r.nextInt(n);
                int y = r.nextInt(n);
                byte t = b[x];
                b[x] = b[y];
                b[y] = t;
                how.add("bytes " + x + " and " + y);
                return b;
            }
            case COPY_RANGE: {
                int len = 1 + r.nextInt(Math.min(64, n));
                int from = r.nextInt(n - len + 1);
                int to = r.nextInt(n - len + 1);
                System.arraycopy(original, from, b, to, len);
                how.add(len + " bytes from " + from + " to " + to);
                return b;
            }
            case TRUNCATE: {
                int len = r.nextInt(n);
                how.add("to " + len + " bytes");
                return Arrays.copyOf(b, len);
            }
            case APPEND: {
                int len = 1 + r.nextInt(64);
                byte[] out = Arrays.copyOf(b, n + len);
                for (int k = n; k < out.length; k++) {
                    out[k] = (byte) r.nextInt(256);
                }
                how.add(len + " bytes");
                return out;
            }
            case INSERT_BYTE: {
                int at = r.nextInt(n + 1);
                byte v = (byte) r.nextInt(256);
                how.add("byte " + (v & 0xff) + " at " + at);
                return splice(b, at, 0, new byte[] {v});
            }
            case DELETE_BYTE: {
                int at = r.nextInt(n);
                how.add("byte " + at);
                return splice(b, at, 1, new byte[0]);
            }
            case DUPLICATE_RANGE: {
                int len = 1 + r.nextInt(Math.min(128, n));
                int from = r.nextInt(n - len + 1);
                how.add(len + " bytes at " + from);
                return splice(b, from, 0, Arrays.copyOfRange(b, from, from + len));
            }
            case HEADER_LENGTH: {
                long v = r.nextInt(3) == 0 ? headerEnd - 8 + r.nextInt(-16, 17) : INTERESTING_LENGTHS[r.nextInt(INTERESTING_LENGTHS.length)];
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, v);
                how.add("= " + v);
                return b;
            }
            case HEADER_NUMBER: {
                String header = new String(b, 8, headerEnd - 8, StandardCharsets.ISO_8859_1);
                List<int[]> numbers = new ArrayList<>();
                Matcher m = Pattern.compile("-?\\d+").matcher(header);
                while (m.find()) {
                    numbers.add(new int[] {8 + m.start(), 8 + m.end()});
                }
                int[] span = numbers.get(r.nextInt(numbers.size()));
                String v = INTERESTING_NUMBERS[r.nextInt(INTERESTING_NUMBERS.length)];
                how.add("\"" + new String(b, span[0], span[1] - span[0], StandardCharsets.ISO_8859_1) + "\" at "
                        + span[0] + " -> \"" + v + "\"");
                byte[] out = splice(b, span[0], span[1] - span[0], v.getBytes(StandardCharsets.ISO_8859_1));
                if (r.nextBoolean()) { // keep the header length right, so the parser sees the new number
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerEnd - 8 + out.length - n);
                    how.add("header length adjusted");
                }
                return out;
            }
            case HEADER_PUNCTUATION: {
                int at = 8 + r.nextInt(headerEnd - 8);
                b[at] = PUNCTUATION[r.nextInt(PUNCTUATION.length)];
                how.add("header byte " + at + " = " + (b[at] & 0xff));
                return b;
            }
            case PADDING_WHITESPACE: {
                int end = headerEnd;
                int start = end;
                while (start > 8 && b[start - 1] == ' ') {
                    start--;
                }
                if (start == end) {
                    how.add("no padding to change");
                    return b;
                }
                int at = start + r.nextInt(end - start);
                b[at] = (byte) "\t\n\r ".charAt(r.nextInt(4));
                how.add("padding byte " + at + " = " + (b[at] & 0xff));
                return b;
            }
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }
}
