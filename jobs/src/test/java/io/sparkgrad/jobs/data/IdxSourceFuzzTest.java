package io.sparkgrad.jobs.data;

import io.sparkgrad.jobs.fuzz.FuzzTally;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;

import static io.sparkgrad.jobs.data.ByteEdits.family;
import static io.sparkgrad.jobs.data.ByteEdits.gzip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the jobs' IDX reader (issue 8, "Bad and hostile input"), plain and gzip, read
 * the way the tasks read it (header checks, then each partition's range of rows from its own open
 * stream) but on the test's thread. Every input must give exactly the rows a plain decoder written
 * here finds, or a {@link BadInputException} of one line naming the file; no read may allocate more
 * than {@value #FIXED_ALLOWANCE} bytes plus {@value #PER_BYTE} per byte present (decompressed, for
 * gzip), whatever the header claims.
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class IdxSourceFuzzTest {
    /** Stream buffers of a few open files (64 KiB each, plain and gzip), the first row chunk, Hadoop's paths. */
    private static final long FIXED_ALLOWANCE = 8L << 20;
    /** A ubyte becomes a 4-byte float, a growing row buffer may double, rows are boxed: 32 is ample. */
    private static final long PER_BYTE = 32;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Configuration CONF = new Configuration();
    /** Valid images files; those at even positions come with a labels file. */
    private static final List<byte[]> BASES = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void bases() {
        SplittableRandom r = new SplittableRandom(17);
        BASES.add(idx(0x08, new int[] {5, 3, 4}, r));
        BASES.add(idx(0x09, new int[] {3, 7}, r));
        BASES.add(idx(0x0B, new int[] {4, 2, 2}, r));
        BASES.add(idx(0x0C, new int[] {2, 3}, r));
        BASES.add(idx(0x0D, new int[] {4, 2}, r));
        BASES.add(idx(0x0E, new int[] {3, 1, 2}, r));
        BASES.add(idx(0x08, new int[] {0, 3}, r));
        BASES.add(idx(0x08, new int[] {2, 300}, r));
        THREADS.setThreadAllocatedMemoryEnabled(true);
        CONF.get("fs.defaultFS"); // loads the defaults once, outside the measured reads
    }

    /** An IDX file of {@code type} and shape {@code dims} with random values. */
    static byte[] idx(int type, int[] dims, SplittableRandom r) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + (int) n * IdxSource.Header.elementBytes(type));
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        while (b.hasRemaining()) {
            b.put((byte) r.nextInt(256));
        }
        return b.array();
    }

    /** The labels file (ubyte, values 0 to 9) for images with {@code count} examples. */
    static byte[] labels(int count, SplittableRandom r) {
        byte[] b = idx(0x08, new int[] {count}, r);
        for (int i = 8; i < b.length; i++) {
            b[i] = (byte) ((b[i] & 0xff) % 10);
        }
        return b;
    }

    // ------------------------------------------------------------------ the families

    @Test
    void truncationsAndExtensionsOfPlainAndGzipFiles() {
        SplittableRandom r = new SplittableRandom(FuzzTally.seed(40));
        family("jobs-idx-truncate", 40, (run, m) -> {
            int k = 0;
            for (byte[] base : BASES) {
                byte[] lab = k % 2 == 0 ? labels(ByteBuffer.wrap(base).getInt(4), r) : null;
                for (boolean zipped : new boolean[] {false, true}) {
                    byte[] whole = zipped ? gzip(base) : base;
                    for (int n = 0; n < whole.length; n++) {
                        read(run, (zipped ? "gzip cut to " : "cut to ") + n, Arrays.copyOf(whole, n), lab, k++);
                    }
                    for (int extra = 1; extra <= 8; extra++) {
                        byte[] longer = Arrays.copyOf(base, base.length + extra);
                        read(run, (zipped ? "gzip of a file with " : "") + extra + " extra bytes",
                                zipped ? gzip(longer) : longer, lab, k++);
                    }
                }
            }
        });
    }

    @Test
    void randomEditsOfPlainAndGzipFiles() {
        SplittableRandom r = new SplittableRandom(FuzzTally.seed(41));
        FuzzTally tally = family("jobs-idx-bytes", 41, (run, m) -> {
            for (int i = 0; i < FuzzTally.scaled(2000); i++) {
                byte[] base = BASES.get(i % BASES.size());
                int count = ByteBuffer.wrap(base).getInt(4);
                byte[] lab = i % 2 == 0 ? labels(count, r) : null;
                boolean editLabels = lab != null && i % 8 == 0;
                byte[] target = editLabels ? lab : base;
                int[] fields = new int[4 + 4 * target[3] + 1];
                for (int f = 0; f < fields.length; f++) {
                    fields[f] = f;
                }
                StringBuilder how = new StringBuilder();
                byte[] edited = m.edit(target, fields, how);
                StringBuilder zippedHow = new StringBuilder();
                byte[] zipped = m.edit(gzip(target), new int[] {0, 1, 2, 3, 8, 9, 10}, zippedHow);
                String which = editLabels ? "labels: " : "images: ";
                String[] hows = {which + how, which + "gzip of " + how, which + "gzip bytes: " + zippedHow};
                byte[][] inputs = {edited, gzip(edited), zipped};
                for (int v = 0; v < 3; v++) {
                    read(run, hows[v], editLabels ? base : inputs[v], editLabels ? inputs[v] : lab, i + v);
                }
            }
        });
        assertTrue(tally.count("accepted") > 0, tally.summary());
    }

    /** Every dimension and the dimension count set to extreme values, plain and gzip. */
    @Test
    void dimensionsSetToExtremeValues() {
        FuzzTally tally = family("jobs-idx-header", 42, (run, m) -> {
            for (int i = 0; i < FuzzTally.scaled(2000); i++) {
                byte[] b = BASES.get(i % BASES.size());
                String how;
                if (m.nextInt(5) == 0) {
                    b = b.clone();
                    b[3] = (byte) m.nextInt(12);
                    how = "dimension count " + b[3];
                } else {
                    int d = m.nextInt(b[3]);
                    long v = m.nextInt(3) == 0 ? m.nextInt(70_000) : m.length();
                    b = ByteEdits.put(b, 4 + 4 * d, 4, java.nio.ByteOrder.BIG_ENDIAN, v);
                    how = "dimension " + d + " = " + (int) v;
                }
                boolean zipped = m.nextInt(2) == 0;
                read(run, (zipped ? "gzip of " : "") + how, zipped ? gzip(b) : b, null, i);
            }
        });
        assertTrue(tally.count("accepted") > 0, tally.summary());
    }

    // ------------------------------------------------------------------ the reviewer's files

    @Test
    void dimensionsWhoseProductWrapsToZeroAreRefused() throws IOException {
        byte[] b = header(0x08, 1, 65536, 65536, 65536);
        assertEquals(20, b.length);
        String m = refused(b);
        assertTrue(m.contains("dimension 2 is 65536 at byte offset 12") && m.contains("more than the 16777216"), m);
    }

    @Test
    void dimensionsWhoseProductWrapsToTheFileSizeAreRefused() throws IOException {
        byte[] b = Arrays.copyOf(header(0x08, 1, 65536, 65537), 65_552);
        String m = refused(b);
        assertTrue(m.contains("dimension 2 is 65537 at byte offset 12"), m);
    }

    @Test
    void gzipDimensionsWhoseProductIsNegativeAsAnIntAreRefused() throws IOException {
        byte[] z = gzip(header(0x08, 1, 32768, 65536));
        assertTrue(z.length < 40, z.length + " bytes");
        String m = refused(z);
        assertTrue(m.contains("dimension 2 is 65536 at byte offset 12"), m);
    }

    /** 2^24 values a row, the most allowed, in a 40-byte gzip: the task allocates for what arrives, not the claim. */
    @Test
    void gzipHeaderClaimingTheLargestRowsAllocatesOnlyForTheDataThere() throws IOException {
        byte[] z = gzip(Arrays.copyOf(header(0x0E, 4, 4096, 4096), 100));
        long before = THREADS.getCurrentThreadAllocatedBytes();
        String m = refused(z);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertTrue(m.contains("the data ends inside row 0 at byte offset 100 of the uncompressed stream"), m);
        assertTrue(allocated < FIXED_ALLOWANCE, allocated + " bytes allocated");
    }

    @Test
    void gzipDataGoingOnPastTheLastRowIsRefused() throws IOException {
        byte[] b = idx(0x08, new int[] {3, 2}, new SplittableRandom(1));
        String m = refused(gzip(Arrays.copyOf(b, b.length + 1)));
        assertTrue(m.contains("goes on past byte offset 18"), m);
    }

    private static byte[] header(int type, int... dims) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.array();
    }

    private String refused(byte[] images) throws IOException {
        Path file = dir.resolve("hostile-idx3-ubyte");
        Files.write(file, images);
        BadInputException e = assertThrows(BadInputException.class,
                () -> rows(IdxSource.readHere(CONF, file.toString(), null, 0, 2)));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        return e.getMessage();
    }

    // ------------------------------------------------------------------ reading and checking

    private void read(FuzzTally run, String how, byte[] images, byte[] labels, int i) throws IOException {
        Path imageFile = dir.resolve("fuzz-images-idx3-ubyte");
        Path labelFile = labels == null ? null : dir.resolve("fuzz-labels-idx1-ubyte");
        Files.write(imageFile, images);
        if (labels != null) {
            Files.write(labelFile, labels);
        }
        Expected want = Expected.of(images, labels);
        long limit = FIXED_ALLOWANCE + PER_BYTE * (present(images) + (labels == null ? 0 : present(labels)));
        int parts = 1 + i % 3;
        run.attempt(how, () -> {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                return rows(IdxSource.readHere(CONF, imageFile.toString(), labelFile == null ? null
                        : labelFile.toString(), 0, parts));
            } finally {
                long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                if (allocated > limit) {
                    throw new AssertionError("the read allocated " + allocated + " bytes, more than " + limit);
                }
            }
        }, want::check, e -> {
            if (want.problem == null) {
                throw new AssertionError("refused a valid input: " + e.getMessage());
            }
            String m = e.getMessage();
            assertTrue(m.contains(imageFile.toString()) || (labelFile != null && m.contains(labelFile.toString())),
                    "the message names neither file: " + m);
        });
    }

    private static List<Row> rows(Iterator<Row> it) {
        List<Row> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    /** The bytes a reader can get out of {@code b}: its length, or more if it is gzip that inflates to more. */
    private static long present(byte[] b) {
        byte[] inflated = gunzip(b);
        return Math.max(b.length, inflated == null ? 0 : inflated.length);
    }

    /** The contents of a gzip input, null when it is not gzip or damaged. */
    private static byte[] gunzip(byte[] b) {
        if (b.length < 2 || (b[0] & 0xff) != 0x1f || (b[1] & 0xff) != 0x8b) {
            return null;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(b))) {
            return in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    /** The rows an input holds by the letter of the format, decoded here; {@code problem} is null when valid. */
    private record Expected(String problem, List<float[]> features, double[] labels) {
        static Expected of(byte[] images, byte[] labels) {
            Object img = decode(images, 2, 8);
            if (img instanceof String) {
                return new Expected("images: " + img, null, null);
            }
            List<float[]> features = (List<float[]>) img;
            double[] y = null;
            if (labels != null) {
                Object lab = decode(labels, 1, 1);
                if (lab instanceof String) {
                    return new Expected("labels: " + lab, null, null);
                }
                List<float[]> rows = (List<float[]>) lab;
                if (rows.size() != features.size()) {
                    return new Expected("the files disagree on the count", null, null);
                }
                y = rows.stream().mapToDouble(v -> v[0]).toArray();
            }
            return new Expected(null, features, y);
        }

        /** The rows of an IDX file of {@code minDims} to {@code maxDims} dimensions, or why it is refused. */
        private static Object decode(byte[] file, int minDims, int maxDims) {
            byte[] b = gunzip(file);
            if (b == null && file.length >= 2 && (file[0] & 0xff) == 0x1f && (file[1] & 0xff) == 0x8b) {
                return "damaged gzip";
            }
            ByteBuffer in = ByteBuffer.wrap(b == null ? file : b);
            if (in.remaining() < 4 || in.get() != 0 || in.get() != 0) {
                return "no magic";
            }
            int type = in.get() & 0xff;
            int size = IdxSource.Header.elementBytes(type);
            int ndim = in.get() & 0xff;
            if (size < 0 || ndim < minDims || ndim > maxDims || in.remaining() < 4 * ndim) {
                return "bad type, dimension count or short header";
            }
            long count = in.getInt();
            long row = 1;
            for (int i = 1; i < ndim; i++) {
                row *= in.getInt();
                if (row <= 0 || row > 1 << 24) {
                    return "bad row size";
                }
            }
            if (count < 0 || in.remaining() != count * row * size) {
                return "data length";
            }
            List<float[]> rows = new ArrayList<>();
            for (long r = 0; r < count; r++) {
                float[] v = new float[(int) row];
                for (int j = 0; j < v.length; j++) {
                    switch (type) {
                        case 0x08: v[j] = ndim > 1 ? (in.get() & 0xff) / 255f : in.get() & 0xff; break;
                        case 0x09: v[j] = in.get(); break;
                        case 0x0B: v[j] = in.getShort(); break;
                        case 0x0C: v[j] = in.getInt(); break;
                        case 0x0D: v[j] = in.getFloat(); break;
                        default: v[j] = (float) in.getDouble();
                    }
                }
                rows.add(v);
            }
            return rows;
        }

        void check(List<Row> got) {
            if (problem != null) {
                throw new AssertionError("accepted an input the format refuses (" + problem + ")");
            }
            assertEquals(features.size(), got.size(), "rows");
            for (int r = 0; r < got.size(); r++) {
                float[] v = (float[]) got.get(r).get(0);
                assertEquals(features.get(r).length, v.length, "values in row " + r);
                for (int j = 0; j < v.length; j++) {
                    assertEquals(Float.floatToRawIntBits(features.get(r)[j]), Float.floatToRawIntBits(v[j]),
                            "row " + r + " value " + j);
                }
                if (labels != null) {
                    assertEquals(labels[r], got.get(r).getDouble(1), "label of row " + r);
                }
            }
        }
    }
}
