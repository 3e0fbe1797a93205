package io.sparkgrad.data;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.GrowingStorage;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST, into tensors: a 4-byte magic number
 * ({@code 00 00}, a type byte, a dimension count), one big-endian 32-bit size per dimension, then
 * the values big-endian in row-major order. Types: {@code 08} unsigned byte, {@code 09} signed
 * byte, {@code 0B} short, {@code 0C} int, {@code 0D} float, {@code 0E} double. Files may be
 * gzip-compressed (recognised by their first bytes, not their name), as the datasets are shipped.
 *
 * <p>The header is never trusted: dimensions must fit a tensor, and a plain file must be exactly as
 * long as they say before anything is allocated. A gzip file's length is unknown until it is read,
 * so its arrays grow only as data arrives and an early end is reported where it happens: a
 * corrupt header cannot make the reader allocate gigabytes.
 *
 * <pre>{@code
 * Tensor images = IdxReader.readImages(Path.of("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"));
 * Tensor labels = IdxReader.readLabels(Path.of("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"));
 * // images: float32 [60000, 28, 28] in [0, 1]; labels: int64 [60000]
 * }</pre>
 */
public final class IdxReader {
    private static final int CHUNK_BYTES = 1 << 16;
    private static final int MAGIC_BYTES = 4;

    private IdxReader() {
    }

    /** The element types an IDX header can name. */
    private enum ElementType {
        UNSIGNED_BYTE(0x08, 1, "ubyte", true),
        SIGNED_BYTE(0x09, 1, "byte", true),
        SHORT(0x0B, 2, "short", true),
        INT(0x0C, 4, "int", true),
        FLOAT(0x0D, 4, "float", false),
        DOUBLE(0x0E, 8, "double", false);

        final int code;
        final int size;
        final String label;
        final boolean integral;

        ElementType(int code, int size, String label, boolean integral) {
            this.code = code;
            this.size = size;
            this.label = label;
            this.integral = integral;
        }

        static ElementType of(int code) {
            for (ElementType t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }
    }

    /** What the caller wants the values turned into. */
    private enum Conversion {
        /** Values as they are, converted to the target dtype. */
        RAW,
        /** Unsigned bytes divided by 255, as torchvision's {@code ToTensor} does for pixels. */
        UNIT_SCALE,
        /** Integral values only, as class indices. */
        LABELS
    }

    // ------------------------------------------------------------------ public API

    /**
     * The file's values as a tensor of {@code dtype}, unscaled. Integer data reads as any dtype;
     * float and double data only as float32 or float64.
     */
    public static Tensor read(Path file, DType dtype) throws IOException {
        return readFile(file, dtype, Conversion.RAW);
    }

    /**
     * Unsigned-byte images (pixels 0 to 255) as float32 in [0, 1], each value divided by 255 in
     * float32 exactly as torchvision's {@code ToTensor} does, so both give the same bits.
     */
    public static Tensor readImages(Path file) throws IOException {
        return readFile(file, DType.FLOAT32, Conversion.UNIT_SCALE);
    }

    /** Integer labels as int64 class indices (what cross-entropy takes). */
    public static Tensor readLabels(Path file) throws IOException {
        return readFile(file, DType.INT64, Conversion.LABELS);
    }

    /**
     * As {@link #read(Path, DType)} from a stream (a file on HDFS, a resource), plain or gzip; the
     * stream must end where the data ends and is not closed.
     *
     * @param source the name used in error messages
     */
    public static Tensor read(InputStream in, String source, DType dtype) throws IOException {
        return new Decoder(in, -1, source, dtype, Conversion.RAW).decode();
    }

    /** As {@link #readImages(Path)} from a stream; the stream is not closed. */
    public static Tensor readImages(InputStream in, String source) throws IOException {
        return new Decoder(in, -1, source, DType.FLOAT32, Conversion.UNIT_SCALE).decode();
    }

    /** As {@link #readLabels(Path)} from a stream; the stream is not closed. */
    public static Tensor readLabels(InputStream in, String source) throws IOException {
        return new Decoder(in, -1, source, DType.INT64, Conversion.LABELS).decode();
    }

    private static Tensor readFile(Path file, DType dtype, Conversion conversion) throws IOException {
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return new Decoder(in, size, file.toString(), dtype, conversion).decode();
        }
    }

    // ------------------------------------------------------------------ decoding

    /** One read: the stream, how far into the (uncompressed) IDX data it is, and what to build. */
    private static final class Decoder {
        private final CountingInputStream in;
        private final boolean gzip;
        /** Length of the IDX data when known (a plain file), else -1. */
        private final long length;
        private final String source;
        private final DType dtype;
        private final Conversion conversion;
        private final byte[] chunk = new byte[CHUNK_BYTES];

        Decoder(InputStream raw, long length, String source, DType dtype, Conversion conversion) throws IOException {
            this.source = source;
            this.dtype = dtype;
            this.conversion = conversion;
            BufferedInputStream buffered = new BufferedInputStream(raw, CHUNK_BYTES);
            buffered.mark(2);
            int b0 = buffered.read();
            int b1 = buffered.read();
            buffered.reset();
            this.gzip = b0 == 0x1f && b1 == 0x8b;
            this.length = gzip ? -1 : length;
            this.in = new CountingInputStream(gzip ? openGzip(buffered) : buffered);
        }

        private InputStream openGzip(InputStream buffered) throws IOException {
            try {
                return new GZIPInputStream(buffered, CHUNK_BYTES);
            } catch (ZipException | EOFException e) {
                throw new IdxFormatException(source, 0, true, "the gzip header is damaged: " + gzipProblem(e));
            }
        }

        Tensor decode() throws IOException {
            int got = fill(MAGIC_BYTES);
            if (got < MAGIC_BYTES) {
                throw fail(in.position, "the file ends after " + got + " bytes, inside the 4-byte magic number"
                        + " (empty or truncated file?)");
            }
            if (chunk[0] != 0 || chunk[1] != 0) {
                throw fail(0, "bad magic number " + hex(chunk, MAGIC_BYTES)
                        + ": an IDX file starts with 00 00, a type byte and a dimension count");
            }
            ElementType type = ElementType.of(chunk[2] & 0xff);
            if (type == null) {
                throw fail(2, String.format("unknown IDX data type 0x%02X (known: 08 ubyte, 09 byte, 0B short,"
                        + " 0C int, 0D float, 0E double)", chunk[2] & 0xff));
            }
            checkConversion(type);
            int[] dims = readDimensions(chunk[3] & 0xff);
            long headerBytes = in.position;
            int numel = numel(dims);
            long dataBytes = (long) numel * type.size;
            if (length >= 0 && length - headerBytes != dataBytes) {
                long actual = length - headerBytes;
                throw fail(actual < dataBytes ? length : headerBytes + dataBytes, "dimensions " + Arrays.toString(dims)
                        + " of " + type.label + " need " + dataBytes + " data bytes after the " + headerBytes
                        + "-byte header, but the file holds " + actual + (actual < dataBytes
                        ? " (truncated file?)" : " (extra bytes at the end)"));
            }
            Tensor values = readValues(type, numel, dims);
            if (readByte() != -1) {
                throw fail(headerBytes + dataBytes, "more data than dimensions " + Arrays.toString(dims) + " of "
                        + type.label + " describe: the file goes on after " + numel + " elements");
            }
            return values;
        }

        private void checkConversion(ElementType type) throws IdxFormatException {
            if (conversion == Conversion.UNIT_SCALE && type != ElementType.UNSIGNED_BYTE) {
                throw fail(2, "holds " + type.label + " data, but only ubyte pixels (0..255) scale to [0, 1];"
                        + " read it with read(file, dtype) instead");
            }
            if (!type.integral && dtype == DType.INT64) {
                throw fail(2, "holds " + type.label + " data, which cannot be read as int64"
                        + (conversion == Conversion.LABELS ? " labels" : "") + "; read it as float32 or float64");
            }
        }

        private int[] readDimensions(int count) throws IOException {
            int[] dims = new int[count];
            for (int d = 0; d < count; d++) {
                long at = in.position;
                int got = fill(Integer.BYTES);
                if (got < Integer.BYTES) {
                    throw fail(in.position, "the file ends inside the header, in dimension " + d + " of " + count);
                }
                long size = ByteBuffer.wrap(chunk, 0, Integer.BYTES).getInt() & 0xFFFF_FFFFL;
                if (size > Integer.MAX_VALUE) {
                    throw fail(at, "dimension " + d + " is " + size + ", more than a tensor dimension can be (2^31-1)");
                }
                dims[d] = (int) size;
            }
            return dims;
        }

        private int numel(int[] dims) throws IdxFormatException {
            long n = 1;
            for (int d : dims) {
                n *= d;
                if (n > Integer.MAX_VALUE) {
                    throw fail(MAGIC_BYTES, "dimensions " + Arrays.toString(dims)
                            + " describe more than 2^31-1 elements, more than a tensor can hold");
                }
            }
            return (int) n;
        }

        /**
         * The values, converted. When the length is unknown (gzip) the array starts at one chunk and
         * grows as data arrives ({@link GrowingStorage}).
         */
        private Tensor readValues(ElementType type, int numel, int[] dims) throws IOException {
            int perChunk = CHUNK_BYTES / type.size;
            GrowingStorage values = new GrowingStorage(dtype, numel, length >= 0 ? numel : Math.min(numel, perChunk));
            double[] decoded = new double[perChunk];
            ByteBuffer bytes = ByteBuffer.wrap(chunk).order(ByteOrder.BIG_ENDIAN);
            for (int filled = 0; filled < numel; ) {
                int count = Math.min(perChunk, numel - filled);
                int got = fill(count * type.size);
                if (got < count * type.size) {
                    long element = filled + got / type.size;
                    throw fail(in.position, "the data ends inside element " + element + " of " + numel + " (dimensions "
                            + Arrays.toString(dims) + " of " + type.label + "; truncated file?)");
                }
                values.reserve(filled + count);
                decodeChunk(type, bytes, count, decoded);
                store(decoded, count, values, filled);
                filled += count;
            }
            return values.toTensor(dims);
        }

        private static void decodeChunk(ElementType type, ByteBuffer bytes, int count, double[] out) {
            bytes.clear();
            for (int i = 0; i < count; i++) {
                switch (type) {
                    case UNSIGNED_BYTE: out[i] = bytes.get() & 0xff; break;
                    case SIGNED_BYTE: out[i] = bytes.get(); break;
                    case SHORT: out[i] = bytes.getShort(); break;
                    case INT: out[i] = bytes.getInt(); break;
                    case FLOAT: out[i] = bytes.getFloat(); break;
                    default: out[i] = bytes.getDouble(); break;
                }
            }
        }

        private void store(double[] decoded, int count, GrowingStorage values, int at) {
            boolean scale = conversion == Conversion.UNIT_SCALE;
            switch (dtype) {
                case FLOAT32: {
                    float[] f = values.floats();
                    for (int i = 0; i < count; i++) {
                        f[at + i] = scale ? (float) decoded[i] / 255f : (float) decoded[i];
                    }
                    break;
                }
                case FLOAT64: {
                    double[] d = values.doubles();
                    for (int i = 0; i < count; i++) {
                        d[at + i] = scale ? decoded[i] / 255.0 : decoded[i];
                    }
                    break;
                }
                default: {
                    long[] l = values.longs();
                    for (int i = 0; i < count; i++) {
                        l[at + i] = (long) decoded[i];
                    }
                }
            }
        }

        /** Reads up to {@code n} bytes into the chunk, stopping only at the end; returns how many. */
        private int fill(int n) throws IOException {
            try {
                return in.readNBytes(chunk, 0, n);
            } catch (ZipException | EOFException e) {
                throw damagedGzip(e);
            }
        }

        private int readByte() throws IOException {
            try {
                return in.read();
            } catch (ZipException | EOFException e) {
                throw damagedGzip(e);
            }
        }

        private IdxFormatException damagedGzip(IOException e) {
            return fail(in.position, "the gzip data is damaged or cut short (" + gzipProblem(e) + ")");
        }

        /** The JDK's words for a gzip problem; its EOFException for a stream cut short has none. */
        private static String gzipProblem(IOException e) {
            if (e.getMessage() != null) {
                return e.getMessage();
            }
            return e instanceof EOFException ? "it ends early" : e.getClass().getSimpleName();
        }

        private IdxFormatException fail(long offset, String problem) {
            return new IdxFormatException(source, offset, gzip, problem);
        }

        /** Counts the bytes delivered, so an error inside a large read still names its exact offset. */
        private static final class CountingInputStream extends FilterInputStream {
            long position;

            CountingInputStream(InputStream in) {
                super(in);
            }

            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    position++;
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    position += n;
                }
                return n;
            }
        }

        private static String hex(byte[] b, int n) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                s.append(i == 0 ? "" : " ").append(String.format("%02x", b[i] & 0xff));
            }
            return s.toString();
        }
    }
}
