package io.sparkgrad.data;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.sparkgrad.data.IdxFiles.BYTE;
import static io.sparkgrad.data.IdxFiles.DOUBLE;
import static io.sparkgrad.data.IdxFiles.FLOAT;
import static io.sparkgrad.data.IdxFiles.INT;
import static io.sparkgrad.data.IdxFiles.SHORT;
import static io.sparkgrad.data.IdxFiles.UBYTE;
import static io.sparkgrad.data.IdxFiles.bytes;
import static io.sparkgrad.data.IdxFiles.doubles;
import static io.sparkgrad.data.IdxFiles.floats;
import static io.sparkgrad.data.IdxFiles.gzip;
import static io.sparkgrad.data.IdxFiles.idx;
import static io.sparkgrad.data.IdxFiles.ints;
import static io.sparkgrad.data.IdxFiles.shorts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** IDX files of every type, plain or gzip, read into tensors with the values and shapes they hold. */
class IdxReaderTest {

    @TempDir
    Path dir;

    private int fileCounter;

    private Path write(byte[] bytes) throws IOException {
        Path file = dir.resolve("file-" + (fileCounter++) + ".idx");
        Files.write(file, bytes);
        return file;
    }

    /** The same file plain, gzipped, and gzipped as a stream: all must read the same. */
    private List<Tensor> readAllWays(byte[] plain, DType dtype) throws IOException {
        return List.of(
                IdxReader.read(write(plain), dtype),
                IdxReader.read(write(gzip(plain)), dtype),
                IdxReader.read(new ByteArrayInputStream(plain), "plain stream", dtype),
                IdxReader.read(new ByteArrayInputStream(gzip(plain)), "gzip stream", dtype));
    }

    private void assertReads(int type, byte[] data, double[] expected) throws IOException {
        int[] dims = {2, 3};
        byte[] file = idx(type, dims, data);
        for (Tensor t : readAllWays(file, DType.FLOAT64)) {
            assertEquals(DType.FLOAT64, t.dtype());
            assertArrayEquals(dims, t.shape());
            assertArrayEquals(expected, t.toDoubleArray(), String.format("type 0x%02X", type));
        }
        float[] asFloats = new float[expected.length];
        for (int i = 0; i < expected.length; i++) {
            asFloats[i] = (float) expected[i];
        }
        for (Tensor t : readAllWays(file, DType.FLOAT32)) {
            assertEquals(DType.FLOAT32, t.dtype());
            assertArrayEquals(asFloats, t.toFloatArray());
        }
    }

    @Test
    void unsignedBytesReadAsZeroTo255() throws IOException {
        assertReads(UBYTE, bytes(0, 1, 127, 128, 254, 255), new double[] {0, 1, 127, 128, 254, 255});
    }

    @Test
    void signedBytesKeepTheirSign() throws IOException {
        assertReads(BYTE, bytes(0, 1, 127, 128, 254, 255), new double[] {0, 1, 127, -128, -2, -1});
    }

    @Test
    void shortsAreBigEndianAndSigned() throws IOException {
        assertReads(SHORT, shorts(0, 1, 258, -1, Short.MAX_VALUE, Short.MIN_VALUE),
                new double[] {0, 1, 258, -1, 32767, -32768});
    }

    @Test
    void intsAreBigEndianAndSigned() throws IOException {
        assertReads(INT, ints(0, 1, 0x01020304, -1, Integer.MAX_VALUE, Integer.MIN_VALUE),
                new double[] {0, 1, 0x01020304, -1, Integer.MAX_VALUE, Integer.MIN_VALUE});
    }

    @Test
    void floatsAreBigEndian() throws IOException {
        assertReads(FLOAT, floats(0.5f, -1.25f, 3e38f, Float.MIN_VALUE, Float.NEGATIVE_INFINITY, 0.1f),
                new double[] {0.5, -1.25, 3e38f, Float.MIN_VALUE, Double.NEGATIVE_INFINITY, 0.1f});
    }

    @Test
    void doublesAreBigEndian() throws IOException {
        double[] v = {0.1, -2.5, 1e300, Double.MIN_VALUE, -0.0, Math.PI};
        assertReads(DOUBLE, doubles(v), v);
        Tensor t = IdxReader.read(write(idx(DOUBLE, new int[] {6}, doubles(v))), DType.FLOAT64);
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(t.toDoubleArray()[4]));
    }

    @Test
    void integerTypesReadAsInt64Exactly() throws IOException {
        byte[] file = idx(INT, new int[] {3}, ints(Integer.MIN_VALUE, -7, Integer.MAX_VALUE));
        for (Tensor t : readAllWays(file, DType.INT64)) {
            assertEquals(DType.INT64, t.dtype());
            assertArrayEquals(new long[] {Integer.MIN_VALUE, -7, Integer.MAX_VALUE}, t.toLongArray());
        }
    }

    @Test
    void imagesScaleToTheUnitIntervalAsTorchvisionDoes() throws IOException {
        int[] pixels = {0, 1, 2, 51, 127, 128, 200, 254, 255};
        byte[] file = idx(UBYTE, new int[] {1, 3, 3}, bytes(pixels));
        float[] expected = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            expected[i] = (float) pixels[i] / 255f;
        }
        for (Tensor t : List.of(IdxReader.readImages(write(file)), IdxReader.readImages(write(gzip(file))),
                IdxReader.readImages(new ByteArrayInputStream(file), "stream"))) {
            assertEquals(DType.FLOAT32, t.dtype());
            assertArrayEquals(new int[] {1, 3, 3}, t.shape());
            assertArrayEquals(expected, t.toFloatArray());
        }
        assertEquals(0f, expected[0]);
        assertEquals(1f, expected[8]);
        assertEquals(0.2f, expected[3]);
    }

    @Test
    void labelsReadAsInt64ClassIndices() throws IOException {
        byte[] file = idx(UBYTE, new int[] {5}, bytes(9, 0, 0, 3, 255));
        for (Tensor t : List.of(IdxReader.readLabels(write(file)), IdxReader.readLabels(write(gzip(file))),
                IdxReader.readLabels(new ByteArrayInputStream(gzip(file)), "stream"))) {
            assertEquals(DType.INT64, t.dtype());
            assertArrayEquals(new long[] {9, 0, 0, 3, 255}, t.toLongArray());
        }
    }

    @Test
    void everyRankReadsIncludingScalarsAndEmptyShapes() throws IOException {
        Tensor scalar = IdxReader.read(write(idx(UBYTE, new int[0], bytes(7))), DType.FLOAT32);
        assertEquals(0, scalar.dim());
        assertEquals(7, scalar.item());

        Tensor empty = IdxReader.readImages(write(idx(UBYTE, new int[] {0, 28, 28}, new byte[0])));
        assertArrayEquals(new int[] {0, 28, 28}, empty.shape());
        assertEquals(0, empty.numel());
        Tensor emptyGzip = IdxReader.readImages(write(gzip(idx(UBYTE, new int[] {0, 28, 28}, new byte[0]))));
        assertArrayEquals(new int[] {0, 28, 28}, emptyGzip.shape());

        byte[] data = new byte[2 * 1 * 3 * 2];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        Tensor rank4 = IdxReader.read(write(idx(BYTE, new int[] {2, 1, 3, 2}, data)), DType.INT64);
        assertArrayEquals(new int[] {2, 1, 3, 2}, rank4.shape());
        assertEquals(1 * 6 + 2 * 2 + 1, rank4.get(1, 0, 2, 1));
        assertTrue(rank4.isContiguous());
    }

    @Test
    void dataSpanningManyReadChunksArrivesWhole() throws IOException {
        int n = 300_007;
        byte[] data = new byte[n];
        for (int i = 0; i < n; i++) {
            data[i] = (byte) (i % 251);
        }
        byte[] file = idx(UBYTE, new int[] {n}, data);
        for (Tensor t : readAllWays(file, DType.INT64)) {
            long[] v = t.toLongArray();
            assertEquals(n, v.length);
            for (int i = 0; i < n; i += 9973) {
                assertEquals(i % 251, v[i], "element " + i);
            }
            assertEquals((n - 1) % 251, v[n - 1]);
        }
    }

    @Test
    void gzipIsRecognisedByItsBytesNotItsName() throws IOException {
        byte[] plain = idx(UBYTE, new int[] {2}, bytes(3, 4));
        Path gzNamedPlain = dir.resolve("labels.idx1-ubyte.gz");
        Files.write(gzNamedPlain, plain);
        Path plainNamedGz = dir.resolve("labels.idx1-ubyte");
        Files.write(plainNamedGz, gzip(plain));
        assertArrayEquals(new long[] {3, 4}, IdxReader.readLabels(gzNamedPlain).toLongArray());
        assertArrayEquals(new long[] {3, 4}, IdxReader.readLabels(plainNamedGz).toLongArray());
    }

    @Test
    void concatenatedGzipMembersReadAsOneFile() throws IOException {
        byte[] plain = idx(SHORT, new int[] {4}, shorts(1, 2, 3, 4));
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.write(gzip(Arrays.copyOf(plain, 10)));
        both.write(gzip(Arrays.copyOfRange(plain, 10, plain.length)));
        assertArrayEquals(new long[] {1, 2, 3, 4}, IdxReader.readLabels(write(both.toByteArray())).toLongArray());
    }

    /**
     * Found by fuzzing: dimensions [128, 0] are a valid empty file, but reading the values of the
     * tensor it gave failed inside the engine's copy (the copy walked 128 rows of nothing in an
     * empty array). Every way of reading it now gives an empty tensor whose values can be used.
     */
    @Test
    void anEmptyFileWithAZeroDimensionAfterAnotherYieldsUsableValues() throws IOException {
        Path file = write(idx(UBYTE, new int[] {128, 0}, new byte[0]));
        Tensor images = IdxReader.readImages(file);
        assertArrayEquals(new int[] {128, 0}, images.shape());
        assertEquals(0, images.toFloatArray().length);
        assertEquals(0, IdxReader.read(file, DType.FLOAT64).toDoubleArray().length);
        assertEquals(0, IdxReader.readLabels(gzipFile(idx(UBYTE, new int[] {3, 0, 5}, new byte[0]))).toLongArray().length);
        assertEquals(0, images.to(DType.FLOAT64).toDoubleArray().length);
    }

    private Path gzipFile(byte[] plain) throws IOException {
        return write(gzip(plain));
    }
}
