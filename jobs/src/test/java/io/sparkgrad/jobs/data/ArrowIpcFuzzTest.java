package io.sparkgrad.jobs.data;

import io.sparkgrad.jobs.fuzz.FuzzTally;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.UInt1Vector;
import org.apache.arrow.vector.UInt2Vector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ArrowWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.util.ValueVectorUtility;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

import static io.sparkgrad.jobs.data.ByteEdits.family;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the jobs' Arrow IPC reader (issue 8, "Bad and hostile input"): files of three
 * record batches, in the stream and the file format, edited anywhere, and in the lengths, counts and
 * offsets of every message (not only the first). Every file must be read, or refused with a
 * {@link BadInputException} of one line naming it; no read may take more memory than
 * {@value #FIXED_ALLOWANCE} bytes plus a few per byte of the file, on the heap or off it (Arrow's).
 * What is read must be what Arrow Java's own reader, with full validation, reads from the same
 * bytes: the edits that change values and nothing else are accepted, the rest refused.
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class ArrowIpcFuzzTest {
    private static final long FIXED_ALLOWANCE = 8L << 20;
    private static final long HEAP_PER_BYTE = 32;
    /** Arrow memory per byte of the file: the body of one batch and the bitmaps Arrow fills in. */
    private static final long ARROW_PER_BYTE = 4;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final Configuration CONF = new Configuration();
    private static final RootAllocator ROOT = new RootAllocator(Long.MAX_VALUE);
    private static byte[] stream;
    private static byte[] file;

    @TempDir
    Path dir;

    @BeforeAll
    static void bases() throws IOException {
        stream = write(false, 77, 5, 3);
        file = write(true, 3, 20, 12);
        THREADS.setThreadAllocatedMemoryEnabled(true);
        // loads the classes and Hadoop's file system once, outside the measured reads
        Path warm = Files.createTempFile("warm", ".arrow");
        Files.write(warm, file);
        rows(warm, ROOT);
        arrowsOwnReading(file);
        Files.delete(warm);
    }

    @AfterAll
    static void release() {
        ROOT.close(); // fails if a read left Arrow memory behind
    }

    /**
     * Three batches of {@code features: list<float>} (the first row of each has {@code firstList}
     * values, one row has a null), {@code label: double}, {@code n: int}, {@code s: utf8},
     * {@code b: bool} and {@code v: fixed_size_list<double>[2]}.
     */
    static byte[] write(boolean fileFormat, int firstList, int rows, int nulls) throws IOException {
        Field element = new Field("element", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
        Field pair = new Field("element", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null);
        Schema schema = new Schema(List.of(
                new Field("features", FieldType.nullable(ArrowType.List.INSTANCE), List.of(element)),
                new Field("label", FieldType.nullable(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)), null),
                new Field("n", FieldType.nullable(new ArrowType.Int(32, true)), null),
                new Field("s", FieldType.nullable(ArrowType.Utf8.INSTANCE), null),
                new Field("b", FieldType.nullable(ArrowType.Bool.INSTANCE), null),
                new Field("v", FieldType.nullable(new ArrowType.FixedSizeList(2)), List.of(pair))));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (BufferAllocator alloc = new RootAllocator();
                VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc);
                ArrowWriter w = fileFormat ? new ArrowFileWriter(root, null, Channels.newChannel(out))
                        : new ArrowStreamWriter(root, null, out)) {
            w.start();
            for (int batch = 0; batch < 3; batch++) {
                root.allocateNew();
                int n = batch == 1 ? rows : 1 + batch * 2;
                ListVector features = (ListVector) root.getVector(0);
                Float4Vector values = (Float4Vector) features.getDataVector();
                FixedSizeListVector v = (FixedSizeListVector) root.getVector(5);
                for (int r = 0; r < n; r++) {
                    if (r == nulls) {
                        features.setNull(r);
                    } else {
                        int start = features.startNewValue(r);
                        int length = r == 0 ? firstList : r % 4;
                        for (int j = 0; j < length; j++) {
                            values.setSafe(start + j, batch * 1000 + r + j / 8f);
                        }
                        features.endValue(r, length);
                    }
                    ((Float8Vector) root.getVector(1)).setSafe(r, r % 3);
                    ((IntVector) root.getVector(2)).setSafe(r, r * 7 - 3);
                    ((VarCharVector) root.getVector(3)).setSafe(r, ("row " + r).getBytes(StandardCharsets.UTF_8));
                    ((BitVector) root.getVector(4)).setSafe(r, r % 2);
                    v.setNotNull(r);
                    ((Float8Vector) v.getDataVector()).setSafe(2 * r, r);
                    ((Float8Vector) v.getDataVector()).setSafe(2 * r + 1, -r);
                }
                root.setRowCount(n);
                w.writeBatch();
            }
            w.end();
        }
        return out.toByteArray();
    }

    // ------------------------------------------------------------------ the families

    @Test
    void theBasesAreReadWhole() throws IOException {
        for (byte[] base : List.of(stream, file)) {
            FuzzTally run = new FuzzTally("jobs-arrow-bases", 0, BadInputException.class);
            read(run, "unchanged", base);
            assertEquals(1, run.count("accepted"), run.summary());
        }
    }

    @Test
    void truncationsAndExtensions() {
        FuzzTally tally = family("jobs-arrow-truncate", 50, (run, m) -> {
            for (byte[] base : List.of(stream, file)) {
                // every cut in the first KiB (the schema and the first batch), then at and next to
                // each 8-byte boundary, where messages and buffers start
                for (int n = 0; n < base.length; n++) {
                    if (n < 1024 || n % 8 < 2 || n % 8 == 7) {
                        read(run, "cut to " + n, Arrays.copyOf(base, n));
                    }
                }
                for (int extra = 1; extra <= 16; extra++) {
                    read(run, extra + " zero bytes added", Arrays.copyOf(base, base.length + extra));
                }
            }
        });
        assertTrue(tally.count("accepted") > 0, tally.summary());
    }

    /** Edits anywhere, half of them in the framing and metadata of a message chosen among all. */
    @Test
    void randomEditsOfEveryMessage() {
        FuzzTally tally = family("jobs-arrow-bytes", 51, (run, m) -> onMessages(m, (base, index, msg) -> {
            int[] fields = new int[msg[1] + 8 + 16];
            for (int f = 0; f < fields.length; f++) {
                fields[f] = msg[0] + f; // the prefix, the metadata and the first bytes of the body
            }
            StringBuilder how = new StringBuilder();
            byte[] edited = m.edit(base, fields, how);
            read(run, "message " + index + " (at " + msg[0] + "): " + how, edited);
        }));
        assertTrue(tally.count("accepted") > 0, tally.summary());
    }

    /**
     * The integers of one message, any message, set to extreme values: the metadata length, every
     * 64-bit slot of the metadata (the body length, row count, node lengths and null counts, buffer
     * offsets and lengths) and the first 32-bit words of each buffer region (offsets).
     */
    @Test
    void lengthsCountsAndOffsetsOfEveryMessage() {
        FuzzTally tally = family("jobs-arrow-fields", 52, (run, m) -> onMessages(m, (base, index, msg) -> {
            long v = m.nextInt(3) == 0 ? m.nextInt(200) : m.length();
            int kind = m.nextInt(4);
            int at;
            int width;
            if (kind == 0) {
                at = msg[0] + 4;
                width = 4;
            } else if (kind == 1 || msg[2] == 0) {
                at = msg[0] + 8 + 8 * m.nextInt(msg[1] / 8);
                width = 8;
            } else {
                at = msg[0] + 8 + msg[1] + 4 * m.nextInt(Math.min(msg[2], 400) / 4);
                width = 4;
            }
            String how = "message " + index + " (at " + msg[0] + "): " + (width * 8) + "-bit " + v + " at " + at;
            read(run, how, ByteEdits.put(base, at, width, ByteOrder.LITTLE_ENDIAN, v));
        }));
        assertTrue(tally.count("accepted") > 0, tally.summary());
    }

    /** One case made from message {@code index}, {@code [start, metadata, body]}, of {@code base}. */
    @FunctionalInterface
    private interface MessageCase {
        void run(byte[] base, int index, int[] message) throws IOException;
    }

    /** {@code FuzzTally.scaled(2000)} cases, each on a message drawn from all those of the stream or the file base. */
    private static void onMessages(ByteEdits m, MessageCase c) throws IOException {
        for (int i = 0; i < FuzzTally.scaled(2000); i++) {
            byte[] base = i % 2 == 0 ? stream : file;
            List<int[]> messages = messages(base);
            int index = m.nextInt(messages.size());
            c.run(base, index, messages.get(index));
        }
    }

    /** Where each message starts, its metadata length and its body length: {@code [start, metadata, body]}. */
    static List<int[]> messages(byte[] b) {
        List<int[]> out = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int p = b.length >= 8 && b[0] == 'A' ? 8 : 0;
        while (p + 8 <= b.length && bb.getInt(p) == -1 && bb.getInt(p + 4) > 0) {
            int metadata = bb.getInt(p + 4);
            long body = org.apache.arrow.flatbuf.Message.getRootAsMessage(
                    bb.duplicate().position(p + 8).slice().order(ByteOrder.LITTLE_ENDIAN)).bodyLength();
            out.add(new int[] {p, metadata, (int) body});
            p += 8 + metadata + (int) body;
        }
        return out;
    }

    // ------------------------------------------------------------------ the reviewer's files

    @Test
    void bodyLengthOf2To40IsRefusedBeforeAllocating() throws IOException {
        String m = refusedWithBodyLength(1L << 40);
        assertTrue(m.contains("body length as 1099511627776"), m);
    }

    @Test
    void bodyLengthOf3GiBIsRefusedBeforeAllocating() throws IOException {
        String m = refusedWithBodyLength(3L << 30);
        assertTrue(m.contains("body length as 3221225472"), m);
    }

    @Test
    void listEndOffsetOf2To30IsRefused() throws IOException {
        String m = refusedWithEndOffset(1 << 30);
        assertTrue(m.contains("column 'features.element'") && m.contains("1073741824"), m);
    }

    @Test
    void negativeListEndOffsetIsRefused() throws IOException {
        String m = refusedWithEndOffset(-16);
        assertTrue(m.contains("offset -16 at position 1"), m);
    }

    @Test
    void listEndOffsetPastTheValuesIsRefused() throws IOException {
        String m = refusedWithEndOffset(100);
        assertTrue(m.contains("column 'features.element'") && m.contains("77 values where at least 100"), m);
    }

    /** Found by the fuzz test: a child offset in the schema pointing back, which Arrow follows until the stack runs out. */
    @Test
    void schemaThatLoopsIsRefused() throws IOException {
        String m = refused(ByteEdits.put(stream, 136, 8, ByteOrder.LITTLE_ENDIAN, -16));
        assertTrue(m.contains("nests fields without end"), m);
    }

    /** The first batch of {@link #stream} (77 values in its one row) with its list's end offset changed. */
    private String refusedWithEndOffset(int end) throws IOException {
        int[] batch = messages(stream).get(1);
        int offsets = batch[0] + 8 + batch[1] + 8; // after the validity bitmap, padded to 8 bytes
        assertEquals(77, ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN).getInt(offsets + 4));
        return refused(ByteEdits.put(stream, offsets + 4, 4, ByteOrder.LITTLE_ENDIAN, end));
    }

    /** {@link #file} with the body length of its last batch (a later message, not the first) changed. */
    private String refusedWithBodyLength(long length) throws IOException {
        int[] batch = messages(file).get(3);
        byte[] b = file;
        int found = 0;
        for (int at = batch[0] + 8; at + 8 <= batch[0] + 8 + batch[1]; at += 8) {
            if (ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(at) == batch[2]) {
                b = ByteEdits.put(b, at, 8, ByteOrder.LITTLE_ENDIAN, length);
                found++;
            }
        }
        assertEquals(1, found, "the body length field");
        long before = ROOT.getAllocatedMemory();
        String m = refused(b);
        assertEquals(before, ROOT.getAllocatedMemory());
        assertTrue(m.contains("at byte offset " + batch[0]), m);
        return m;
    }

    private String refused(byte[] bytes) throws IOException {
        Path f = dir.resolve("hostile.arrow");
        Files.write(f, bytes);
        FuzzTally run = new FuzzTally("jobs-arrow-named", 0, BadInputException.class);
        read(run, "named case", bytes);
        BadInputException e = assertThrows(BadInputException.class, () -> rows(f, ROOT));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage();
    }

    // ------------------------------------------------------------------ reading and checking

    private static List<Row> rows(Path f, BufferAllocator parent) {
        List<Row> out = new ArrayList<>();
        Iterator<Row> it = ArrowIpc.readHere(CONF, f.toString(), parent);
        it.forEachRemaining(out::add);
        return out;
    }

    private void read(FuzzTally run, String how, byte[] bytes) throws IOException {
        Path f = dir.resolve("fuzz.arrow");
        Files.write(f, bytes);
        long heapLimit = FIXED_ALLOWANCE + HEAP_PER_BYTE * bytes.length;
        long arrowLimit = FIXED_ALLOWANCE + ARROW_PER_BYTE * bytes.length;
        run.attempt(how, () -> {
            long before = THREADS.getCurrentThreadAllocatedBytes();
            BufferAllocator parent = ROOT.newChildAllocator("fuzz", 0, Long.MAX_VALUE);
            RuntimeException outcome = null;
            try {
                return rows(f, parent);
            } catch (RuntimeException e) {
                outcome = e;
                throw e;
            } finally {
                long heap = THREADS.getCurrentThreadAllocatedBytes() - before;
                long arrow = parent.getPeakMemoryAllocation();
                try {
                    parent.close();
                } catch (IllegalStateException leaked) {
                    throw new AssertionError("the read left Arrow memory behind: " + leaked.getMessage().lines()
                            .findFirst().orElse("") + "; it " + (outcome == null ? "succeeded" : "threw " + outcome),
                            outcome);
                }
                if (heap > heapLimit || arrow > arrowLimit) {
                    throw new AssertionError("the read allocated " + heap + " bytes on the heap and " + arrow
                            + " of Arrow memory; the limits are " + heapLimit + " and " + arrowLimit);
                }
            }
        }, got -> assertEquals(arrowsOwnReading(bytes), cells(got)), e -> assertTrue(
                e.getMessage().contains(f.toString()), "the message does not name the file: " + e.getMessage()));
    }

    /** The rows as lists of comparable cells: arrays become lists, float NaN stays NaN. */
    private static List<List<Object>> cells(List<Row> rows) {
        List<List<Object>> out = new ArrayList<>();
        for (Row r : rows) {
            List<Object> cells = new ArrayList<>();
            for (int c = 0; c < r.length(); c++) {
                Object v = r.get(c);
                if (v instanceof float[]) {
                    List<Object> l = new ArrayList<>();
                    for (float x : (float[]) v) {
                        l.add(x);
                    }
                    v = l;
                } else if (v instanceof double[]) {
                    v = Arrays.stream((double[]) v).boxed().collect(java.util.stream.Collectors.toList());
                }
                cells.add(v);
            }
            out.add(cells);
        }
        return out;
    }

    /**
     * The same bytes read by Arrow Java's stream reader alone, each batch validated in full
     * ({@code ValueVectorUtility.validateFull}, column by column), as cells; null elements of a list read as NaN, as the jobs read them.
     */
    private static List<List<Object>> arrowsOwnReading(byte[] bytes) {
        int start = bytes.length >= 8 && bytes[0] == 'A' ? 8 : 0;
        List<List<Object>> out = new ArrayList<>();
        try (BufferAllocator alloc = new RootAllocator(256L << 20);
                ArrowStreamReader r = new ArrowStreamReader(
                        new ByteArrayInputStream(bytes, start, bytes.length - start), alloc)) {
            VectorSchemaRoot root = r.getVectorSchemaRoot();
            while (r.loadNextBatch()) {
                for (FieldVector v : root.getFieldVectors()) {
                    if (v instanceof FixedSizeListVector) {
                        // Arrow 19's validateFull asks a fixed-size list for offsets it does not have
                        FixedSizeListVector l = (FixedSizeListVector) v;
                        ValueVectorUtility.validateFull(l.getDataVector());
                        assertTrue(l.getDataVector().getValueCount() >= l.getValueCount() * l.getListSize());
                    } else {
                        ValueVectorUtility.validateFull(v);
                    }
                }
                for (int i = 0; i < root.getRowCount(); i++) {
                    List<Object> cells = new ArrayList<>();
                    for (FieldVector v : root.getFieldVectors()) {
                        cells.add(cell(v, i, false));
                    }
                    out.add(cells);
                }
            }
        } catch (Exception e) {
            throw new AssertionError("accepted what Arrow's own reader refuses: " + e, e);
        }
        return out;
    }

    /**
     * Value {@code i} of {@code v} in the jobs' terms: unsigned integers by their unsigned value,
     * strings as strings, lists as lists, and a null float inside a list as NaN.
     */
    private static Object cell(FieldVector v, int i, boolean inList) {
        if (v.isNull(i)) {
            return !inList ? null : v instanceof Float4Vector ? (Object) Float.NaN
                    : v instanceof Float8Vector ? (Object) Double.NaN : null;
        }
        if (v instanceof ListVector || v instanceof FixedSizeListVector) {
            boolean fixed = v instanceof FixedSizeListVector;
            int from = fixed ? i * ((FixedSizeListVector) v).getListSize() : ((ListVector) v).getElementStartIndex(i);
            int to = fixed ? from + ((FixedSizeListVector) v).getListSize() : ((ListVector) v).getElementEndIndex(i);
            FieldVector data = fixed ? ((FixedSizeListVector) v).getDataVector() : ((ListVector) v).getDataVector();
            List<Object> l = new ArrayList<>();
            for (int j = from; j < to; j++) {
                l.add(cell(data, j, true));
            }
            return l;
        }
        if (v instanceof UInt1Vector) {
            return (int) ((UInt1Vector) v).getObjectNoOverflow(i);
        }
        if (v instanceof UInt2Vector) {
            return (int) ((UInt2Vector) v).get(i);
        }
        if (v instanceof UInt4Vector) {
            return ((UInt4Vector) v).getObjectNoOverflow(i);
        }
        Object o = v.getObject(i);
        return o == null || o instanceof Number || o instanceof Boolean ? o : Objects.toString(o);
    }
}
