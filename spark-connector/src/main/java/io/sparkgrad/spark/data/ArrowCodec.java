package io.sparkgrad.spark.data;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.List;

/**
 * Converted rows as Arrow record batches, to and from the Arrow IPC stream format.
 *
 * <p>The schema: {@code features} a non-null {@code FixedSizeList<Float4>} of the feature count,
 * {@code label} a {@code BigInt} class index (classification) or a {@code Float4} target
 * (regression), and, with a weight column, {@code weight} a {@code Float4}. Values are copied
 * between the engine's heap {@code float[]}/{@code long[]} and the vectors' little-endian buffers
 * in bulk, never element by element.
 */
public final class ArrowCodec {
    private static final String FEATURES = "features";
    private static final String LABEL = "label";
    private static final String WEIGHT = "weight";

    private ArrowCodec() {
    }

    /** One allocator per JVM; each encode or decode takes a child that it closes, so nothing leaks. */
    private static final class Root {
        static final RootAllocator ALLOCATOR = new RootAllocator(Long.MAX_VALUE);
    }

    static BufferAllocator child(String name) {
        return Root.ALLOCATOR.newChildAllocator(name, 0, Long.MAX_VALUE);
    }

    /** The schema of converted rows. */
    public static Schema schema(int numFeatures, boolean classification, boolean weights) {
        Field element = new Field("element", FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                null);
        List<Field> fields = new ArrayList<>();
        fields.add(new Field(FEATURES, FieldType.notNullable(new ArrowType.FixedSizeList(numFeatures)), List.of(element)));
        fields.add(new Field(LABEL, FieldType.notNullable(classification ? new ArrowType.Int(64, true)
                : new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null));
        if (weights) {
            fields.add(new Field(WEIGHT, FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                    null));
        }
        return new Schema(fields);
    }

    /**
     * Encodes {@code rows} rows as one record batch in an IPC stream.
     *
     * @param features {@code rows × numFeatures} values, row-major
     * @param classes  class indices (classification), else null
     * @param targets  regression targets, else null
     * @param weights  row weights, or null
     */
    public static byte[] encode(int rows, int numFeatures, float[] features, long[] classes, float[] targets,
            float[] weights) {
        long values = (long) rows * numFeatures;
        if (values * Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a chunk of " + rows + " rows × " + numFeatures
                    + " features is over 2 GiB; use smaller chunks");
        }
        try (BufferAllocator alloc = child("sparkgrad-encode");
                VectorSchemaRoot root = VectorSchemaRoot.create(schema(numFeatures, classes != null, weights != null),
                        alloc)) {
            FixedSizeListVector list = (FixedSizeListVector) root.getVector(FEATURES);
            list.setInitialCapacity(rows);
            list.allocateNew();
            Float4Vector elements = (Float4Vector) list.getDataVector();
            putFloats(elements, features, (int) values);
            markValid(list, rows);
            list.setValueCount(rows);
            if (classes != null) {
                BigIntVector label = (BigIntVector) root.getVector(LABEL);
                label.allocateNew(rows);
                ByteBuffer b = ByteBuffer.allocate(rows * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                b.asLongBuffer().put(classes, 0, rows);
                label.getDataBuffer().setBytes(0, b);
                markValid(label, rows);
                label.setValueCount(rows);
            } else {
                putFloats((Float4Vector) root.getVector(LABEL), targets, rows);
            }
            if (weights != null) {
                putFloats((Float4Vector) root.getVector(WEIGHT), weights, rows);
            }
            root.setRowCount(rows);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 16,
                    values * Float.BYTES + rows * 16L + 1024));
            try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(bytes))) {
                writer.start();
                writer.writeBatch();
                writer.end();
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("encoding " + rows + " rows as Arrow IPC", e);
        }
    }

    private static void putFloats(Float4Vector v, float[] src, int n) {
        if (v.getValueCapacity() < n) {
            v.allocateNew(n);
        }
        ByteBuffer b = ByteBuffer.allocate(n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(src, 0, n);
        v.getDataBuffer().setBytes(0, b);
        markValid(v, n);
        v.setValueCount(n);
    }

    private static void markValid(FieldVector v, int n) {
        ArrowBuf validity = v.getValidityBuffer();
        validity.setOne(0, (n + 7) / 8);
    }

    /** A decoded chunk: arrays sized to its rows. */
    public record Chunk(int rows, float[] features, long[] classes, float[] targets, float[] weights) {
    }

    /**
     * Decodes an IPC stream written by {@link #encode} (any number of record batches).
     *
     * @throws IllegalArgumentException when the stream's schema is not the expected one
     */
    public static Chunk decode(byte[] ipc, int numFeatures, boolean classification, boolean weights) {
        Schema expected = schema(numFeatures, classification, weights);
        try (BufferAllocator alloc = child("sparkgrad-decode");
                ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(ipc), alloc)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            if (!root.getSchema().equals(expected)) {
                throw new IllegalArgumentException("Arrow stream schema " + root.getSchema() + " is not the expected "
                        + expected);
            }
            List<Chunk> parts = new ArrayList<>();
            int total = 0;
            while (reader.loadNextBatch()) {
                int n = root.getRowCount();
                FixedSizeListVector list = (FixedSizeListVector) root.getVector(FEATURES);
                float[] x = getFloats((Float4Vector) list.getDataVector(), n * numFeatures);
                long[] cls = null;
                float[] tgt = null;
                if (classification) {
                    cls = new long[n];
                    ((BigIntVector) root.getVector(LABEL)).getDataBuffer().nioBuffer(0, n * Long.BYTES)
                            .order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(cls);
                } else {
                    tgt = getFloats((Float4Vector) root.getVector(LABEL), n);
                }
                float[] w = weights ? getFloats((Float4Vector) root.getVector(WEIGHT), n) : null;
                parts.add(new Chunk(n, x, cls, tgt, w));
                total += n;
            }
            return parts.size() == 1 ? parts.get(0) : concat(parts, total, numFeatures, classification, weights);
        } catch (IOException e) {
            throw new UncheckedIOException("decoding an Arrow IPC stream of " + ipc.length + " bytes", e);
        }
    }

    private static float[] getFloats(Float4Vector v, int n) {
        if (v.getValueCount() != n) {
            throw new IllegalArgumentException("Arrow vector '" + v.getName() + "' holds " + v.getValueCount()
                    + " values, expected " + n);
        }
        float[] out = new float[n];
        if (n > 0) {
            v.getDataBuffer().nioBuffer(0, n * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        }
        return out;
    }

    /** Chunks of one kind and layout, end to end. */
    public static Chunk concat(List<Chunk> parts, int total, int numFeatures, boolean classification, boolean weights) {
        float[] x = new float[Math.multiplyExact(total, numFeatures)];
        long[] cls = classification ? new long[total] : null;
        float[] tgt = classification ? null : new float[total];
        float[] w = weights ? new float[total] : null;
        int at = 0;
        for (Chunk c : parts) {
            System.arraycopy(c.features(), 0, x, at * numFeatures, c.rows() * numFeatures);
            if (classification) {
                System.arraycopy(c.classes(), 0, cls, at, c.rows());
            } else {
                System.arraycopy(c.targets(), 0, tgt, at, c.rows());
            }
            if (weights) {
                System.arraycopy(c.weights(), 0, w, at, c.rows());
            }
            at += c.rows();
        }
        return new Chunk(total, x, cls, tgt, w);
    }
}
