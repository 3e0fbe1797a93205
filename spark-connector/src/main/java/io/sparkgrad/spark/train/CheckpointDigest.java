package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The checksum a checkpoint carries in its metadata ({@value #KEY}): CRC32C over what the file
 * means rather than its bytes: every tensor (by name: dtype, shape, values) and every other metadata
 * entry, in name order, each string and array preceded by its length so that no two different
 * contents feed the same byte sequence. The writer computes it from what it is about to write, the
 * reader from what it parsed, so any change that would alter what a resumed run loads (a value, a
 * shape, a step number, a missing tensor) is caught, while the file itself stays plain safetensors
 * that PyTorch reads. CRC32C detects every burst error of up to 32 bits and all but one in 2^32 of
 * the others; it guards against storage damage, not against someone forging a checkpoint.
 */
final class CheckpointDigest {
    /** The metadata key holding the checksum, {@code crc32c:} and 8 hex digits. */
    static final String KEY = "sparkgrad.checksum";

    private static final int CHUNK_BYTES = 1 << 16;

    private CheckpointDigest() {
    }

    /** The checksum of {@code tensors} and {@code metadata} (its {@value #KEY} entry, if any, left out). */
    static String of(Map<String, Tensor> tensors, Map<String, String> metadata) {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, Tensor> e : new TreeMap<>(tensors).entrySet()) {
            Tensor t = e.getValue().contiguousData();
            string(crc, buf, e.getKey());
            string(crc, buf, t.dtype().name());
            flushIfFull(crc, buf, 4 + 4 * t.shape().length);
            buf.putInt(t.shape().length);
            for (int d : t.shape()) {
                buf.putInt(d);
            }
            values(crc, buf, t);
        }
        for (Map.Entry<String, String> e : new TreeMap<>(metadata).entrySet()) {
            if (!KEY.equals(e.getKey())) {
                string(crc, buf, e.getKey());
                string(crc, buf, e.getValue());
            }
        }
        flush(crc, buf);
        return String.format("crc32c:%08x", crc.getValue());
    }

    private static void string(CRC32C crc, ByteBuffer buf, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        flushIfFull(crc, buf, 4);
        buf.putInt(bytes.length);
        flush(crc, buf);
        crc.update(bytes);
    }

    /** The tensor's values, little-endian, streamed a chunk at a time (no copy of a big tensor). */
    private static void values(CRC32C crc, ByteBuffer buf, Tensor t) {
        int n = t.numel();
        int base = t.storageOffset();
        int item = t.dtype().byteSize();
        for (int done = 0; done < n; ) {
            flush(crc, buf);
            int count = Math.min(CHUNK_BYTES / item, n - done);
            switch (t.dtype()) {
                case FLOAT32: buf.asFloatBuffer().put(t.storage().floats(), base + done, count); break;
                case FLOAT64: buf.asDoubleBuffer().put(t.storage().doubles(), base + done, count); break;
                case INT64: buf.asLongBuffer().put(t.storage().longs(), base + done, count); break;
                default: throw new IllegalStateException("no checksum encoding for " + t.dtype());
            }
            buf.position(count * item);
            done += count;
        }
    }

    private static void flushIfFull(CRC32C crc, ByteBuffer buf, int needed) {
        if (buf.remaining() < needed) {
            flush(crc, buf);
        }
    }

    private static void flush(CRC32C crc, ByteBuffer buf) {
        buf.flip();
        crc.update(buf);
        buf.clear();
    }
}
