package io.sparkgrad.fuzz;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.data.IdxFormatException;
import io.sparkgrad.data.IdxReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

import static io.sparkgrad.data.IdxFiles.gzip;
import static io.sparkgrad.data.IdxFiles.idx;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the IDX reader (issue 8, "Bad and hostile input"), plain and gzip. Each mutant
 * is read from a file (its length known, so it is checked before allocating) and from a stream of
 * unknown length (arrays grow as data arrives), through one of the five ways to read (images,
 * labels, raw as float32, float64 or int64). The IDX format is simple enough for an exact
 * reference: the reader must accept precisely the inputs a plain decoder written here accepts,
 * with the same values bit for bit, and refuse every other with {@link IdxFormatException}.
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class IdxFuzzTest {
    private static final Duration FAMILY_LIMIT = Duration.ofMinutes(3);
    private static final String SOURCE = "fuzz-idx";
    private static final List<byte[]> BASES = new ArrayList<>();

    @TempDir
    Path dir;

    /** The ways to read an IDX file, each with what it makes of the values. */
    private enum Way {
        IMAGES, LABELS, FLOAT32, FLOAT64, INT64;

        DType dtype() {
            switch (this) {
                case IMAGES:
                case FLOAT32: return DType.FLOAT32;
                case FLOAT64: return DType.FLOAT64;
                default: return DType.INT64;
            }
        }

        Tensor read(Path file) throws IOException {
            switch (this) {
                case IMAGES: return IdxReader.readImages(file);
                case LABELS: return IdxReader.readLabels(file);
                default: return IdxReader.read(file, dtype());
            }
        }

        Tensor read(InputStream in) throws IOException {
            switch (this) {
                case IMAGES: return IdxReader.readImages(in, SOURCE);
                case LABELS: return IdxReader.readLabels(in, SOURCE);
                default: return IdxReader.read(in, SOURCE, dtype());
            }
        }
    }

    @BeforeAll
    static void bases() {
        SplittableRandom r = new SplittableRandom(7);
        BASES.add(idx(0x08, new int[] {6, 5, 4}, randomBytes(r, 120)));
        BASES.add(idx(0x08, new int[] {23}, randomBytes(r, 23)));
        BASES.add(idx(0x09, new int[] {3, 7}, randomBytes(r, 21)));
        BASES.add(idx(0x0B, new int[] {11}, randomBytes(r, 22)));
        BASES.add(idx(0x0C, new int[] {2, 3}, randomBytes(r, 24)));
        BASES.add(idx(0x0D, new int[] {4, 2}, randomBytes(r, 32)));
        BASES.add(idx(0x0E, new int[] {5}, randomBytes(r, 40)));
        BASES.add(idx(0x0C, new int[] {}, randomBytes(r, 4)));
        BASES.add(idx(0x08, new int[] {0, 3}, new byte[0]));
    }

    private static byte[] randomBytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    // ------------------------------------------------------------------ the families

    @Test
    void truncationsAtEveryOffsetAndExtensions() {
        FuzzRun run = new FuzzRun("idx-truncate", FuzzRun.seed(10), IdxFormatException.class);
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int k = 0;
            for (byte[] base : BASES) {
                byte[] z = gzip(base);
                for (int length = 0; length < base.length; length++) {
                    readBoth(run, "truncate to " + length, Arrays.copyOf(base, length), Way.values()[k++ % 5]);
                }
                for (int length = 0; length < z.length; length++) {
                    readBoth(run, "gzip truncated to " + length, Arrays.copyOf(z, length), Way.values()[k++ % 5]);
                }
                for (int extra = 1; extra <= 8; extra++) {
                    readBoth(run, "extend by " + extra, Arrays.copyOf(base, base.length + extra), Way.values()[k++ % 5]);
                    readBoth(run, "gzip of a file extended by " + extra, gzip(Arrays.copyOf(base, base.length + extra)),
                            Way.values()[k++ % 5]);
                }
            }
        });
        System.out.print(run.summary());
    }

    @Test
    void randomByteMutationsOfPlainAndGzipFiles() {
        FuzzRun run = new FuzzRun("idx-bytes", FuzzRun.seed(11), IdxFormatException.class);
        ByteMutator m = new ByteMutator(FuzzRun.seed(11));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int n = FuzzRun.scaled(3000);
            for (int i = 0; i < n; i++) {
                byte[] base = BASES.get(i % BASES.size());
                Way way = Way.values()[(i / BASES.size()) % 5];
                ByteMutator.Mutant plain = m.mutate(base, interestingOffsets(base));
                readBoth(run, plain.how(), plain.bytes(), way);
                ByteMutator.Mutant zipped = m.mutate(gzip(base), new int[] {0, 1, 2, 3, 8, 9, 10});
                readBoth(run, "gzip bytes: " + zipped.how(), zipped.bytes(), way);
            }
        });
        System.out.print(run.summary());
    }

    /** The type byte, the dimension count and every dimension set to extreme values, plain and gzip. */
    @Test
    void headerFieldsSetToExtremeValues() {
        FuzzRun run = new FuzzRun("idx-header", FuzzRun.seed(12), IdxFormatException.class);
        ByteMutator m = new ByteMutator(FuzzRun.seed(12));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int n = FuzzRun.scaled(2500);
            for (int i = 0; i < n; i++) {
                byte[] base = BASES.get(i % BASES.size());
                Way way = Way.values()[m.nextInt(5)];
                byte[] b = base.clone();
                String how;
                int dims = base[3];
                switch (m.nextInt(4)) {
                    case 0:
                        b[2] = (byte) m.nextInt(256);
                        how = "type byte " + (b[2] & 0xff);
                        break;
                    case 1:
                        b[3] = (byte) m.nextInt(256);
                        how = "dimension count " + (b[3] & 0xff);
                        break;
                    default: {
                        if (dims == 0) {
                            b[3] = 1;
                            b = ByteMutator.splice(b, 4, 4, new byte[4]);
                            dims = 1;
                        }
                        int d = m.nextInt(dims);
                        long v = m.nextInt(3) == 0 ? m.nextInt(70_000) : m.extreme();
                        b = ByteMutator.putInteger(b, 4 + 4 * d, 4, ByteOrder.BIG_ENDIAN, v);
                        how = "dimension " + d + " = " + (v & 0xFFFF_FFFFL);
                    }
                }
                boolean zipped = m.nextInt(2) == 0;
                readBoth(run, (zipped ? "gzip of " : "") + how, zipped ? gzip(b) : b, way);
            }
        });
        System.out.print(run.summary());
        assertTrue(run.count("accepted") > 0, run.summary());
    }

    // ------------------------------------------------------------------ reading and checking

    /** Reads {@code bytes} from a file and from a stream of unknown length; both must match the reference. */
    private void readBoth(FuzzRun run, String how, byte[] bytes, Way way) throws IOException {
        Path file = dir.resolve("fuzz.idx");
        Files.write(file, bytes);
        Reference ref = Reference.of(bytes, way);
        long present = Math.max(bytes.length, decompressedLength(bytes));
        Tensor fromFile = run.attempt(way + " " + how, bytes, present, () -> way.read(file),
                t -> ref.check(t, how), e -> ref.checkRejection(e, file.toString(), how));
        Tensor streamed = run.attempt("streamed " + way + " " + how, bytes, present,
                () -> way.read(new ByteArrayInputStream(bytes)), t -> ref.check(t, how),
                e -> ref.checkRejection(e, SOURCE, how));
        if ((fromFile == null) != (streamed == null)) {
            fail("file and stream reads disagree on " + how);
        }
    }

    /** How many bytes a gzip input yields before it ends or breaks (0 for a plain input). */
    private static long decompressedLength(byte[] bytes) {
        if (bytes.length < 2 || (bytes[0] & 0xff) != 0x1f || (bytes[1] & 0xff) != 0x8b) {
            return 0;
        }
        long n = 0;
        byte[] buffer = new byte[8192];
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
            for (int got; (got = in.read(buffer)) > 0; ) {
                n += got;
            }
        } catch (IOException broken) {
            // what arrived before the damage is what a reader could have been handed
        }
        return n;
    }

    private static int[] interestingOffsets(byte[] file) {
        int dims = file[3];
        int[] at = new int[4 + 4 * dims + 2];
        for (int i = 0; i < 4 + 4 * dims; i++) {
            at[i] = i;
        }
        at[at.length - 2] = 4 + 4 * dims;
        at[at.length - 1] = file.length - 1;
        return at;
    }

    /**
     * What the input holds by the letter of the format, decoded here without the reader's code:
     * {@code problem} is null for a valid input of a type this way of reading takes.
     */
    private record Reference(String problem, int[] dims, int type, double[] values, Way way) {
        static Reference of(byte[] input, Way way) {
            byte[] b = input;
            if (b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
                    b = in.readAllBytes();
                } catch (IOException e) {
                    return invalid("damaged gzip: " + e.getMessage(), way);
                }
            }
            if (b.length < 4 || b[0] != 0 || b[1] != 0) {
                return invalid("no magic number", way);
            }
            int type = b[2] & 0xff;
            int size;
            switch (type) {
                case 0x08: case 0x09: size = 1; break;
                case 0x0B: size = 2; break;
                case 0x0C: case 0x0D: size = 4; break;
                case 0x0E: size = 8; break;
                default: return invalid("unknown type", way);
            }
            boolean integral = type <= 0x0C;
            if ((way == Way.IMAGES && type != 0x08) || (!integral && (way == Way.LABELS || way == Way.INT64))) {
                return invalid("type not readable this way", way);
            }
            int count = b[3] & 0xff;
            if (b.length < 4 + 4L * count) {
                return invalid("header cut short", way);
            }
            ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.BIG_ENDIAN);
            in.position(4);
            int[] dims = new int[count];
            long numel = 1;
            for (int i = 0; i < count; i++) {
                long d = in.getInt() & 0xFFFF_FFFFL;
                if (d > Integer.MAX_VALUE) {
                    return invalid("dimension too large", way);
                }
                dims[i] = (int) d;
                numel *= d;
                if (numel > Integer.MAX_VALUE) {
                    return invalid("too many elements", way);
                }
            }
            if (in.remaining() != numel * size) {
                return invalid("data length " + in.remaining() + " != " + numel * size, way);
            }
            double[] values = new double[(int) numel];
            for (int i = 0; i < values.length; i++) {
                switch (type) {
                    case 0x08: values[i] = in.get() & 0xff; break;
                    case 0x09: values[i] = in.get(); break;
                    case 0x0B: values[i] = in.getShort(); break;
                    case 0x0C: values[i] = in.getInt(); break;
                    case 0x0D: values[i] = in.getFloat(); break;
                    default: values[i] = in.getDouble(); break;
                }
            }
            return new Reference(null, dims, type, values, way);
        }

        private static Reference invalid(String problem, Way way) {
            return new Reference(problem, null, 0, null, way);
        }

        void check(Tensor t, String how) {
            if (problem != null) {
                throw new AssertionError("accepted an input the format refuses (" + problem + ")");
            }
            assertEquals(way.dtype(), t.dtype(), how);
            assertArrayEquals(dims, t.shape(), how);
            switch (t.dtype()) {
                case FLOAT32: {
                    float[] got = t.toFloatArray();
                    for (int i = 0; i < got.length; i++) {
                        float want = way == Way.IMAGES ? (float) values[i] / 255f : (float) values[i];
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got[i]), how + " at " + i);
                    }
                    break;
                }
                case FLOAT64:
                    assertArrayEquals(Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray(),
                            Arrays.stream(t.toDoubleArray()).mapToLong(Double::doubleToRawLongBits).toArray(), how);
                    break;
                default:
                    assertArrayEquals(Arrays.stream(values).mapToLong(v -> (long) v).toArray(), t.toLongArray(), how);
            }
        }

        void checkRejection(Exception e, String source, String how) {
            if (problem == null) {
                throw new AssertionError("refused a valid input: " + e.getMessage());
            }
            IdxFormatException x = (IdxFormatException) e;
            assertEquals(source, x.source(), how);
            assertTrue(x.getMessage().startsWith(source + ", "), x.getMessage());
            assertTrue(x.getMessage().contains("byte offset " + x.byteOffset() + ": "), x.getMessage());
            assertTrue(x.byteOffset() >= 0, x.getMessage());
            assertNotNull(x.getMessage());
        }
    }
}
