package io.sparkgrad.data;

import io.sparkgrad.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static io.sparkgrad.data.IdxFiles.DOUBLE;
import static io.sparkgrad.data.IdxFiles.FLOAT;
import static io.sparkgrad.data.IdxFiles.INT;
import static io.sparkgrad.data.IdxFiles.UBYTE;
import static io.sparkgrad.data.IdxFiles.bytes;
import static io.sparkgrad.data.IdxFiles.floats;
import static io.sparkgrad.data.IdxFiles.gzip;
import static io.sparkgrad.data.IdxFiles.idx;
import static io.sparkgrad.data.IdxFiles.ints;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Damaged, truncated and hostile IDX files fail with an {@link IdxFormatException} naming the file
 * and the offset, and a header that lies about its size allocates nothing.
 */
class IdxReaderCorruptFileTest {

    @TempDir
    Path dir;

    private int fileCounter;

    private IdxFormatException fails(byte[] bytes, DType dtype) throws IOException {
        Path file = dir.resolve("bad-" + (fileCounter++) + ".idx");
        Files.write(file, bytes);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.read(file, dtype));
        assertEquals(file.toString(), e.source());
        assertTrue(e.getMessage().startsWith(file + ", "), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset " + e.byteOffset() + ": "), e.getMessage());
        return e;
    }

    private IdxFormatException fails(byte[] bytes) throws IOException {
        return fails(bytes, DType.FLOAT32);
    }

    private static void assertMessage(IdxFormatException e, long offset, boolean compressed, String... parts) {
        assertEquals(offset, e.byteOffset(), e.getMessage());
        assertEquals(compressed, e.compressed(), e.getMessage());
        assertTrue(e.getMessage().contains(compressed ? "uncompressed byte offset" : ", byte offset"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected \"" + p + "\" in: " + e.getMessage());
        }
    }

    private static byte[] goodFile() {
        byte[] pixels = new byte[2 * 3 * 3];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 13);
        }
        return idx(UBYTE, new int[] {2, 3, 3}, pixels);
    }

    @Test
    void everyTruncationOfAPlainOrGzipFileIsRefused() throws IOException {
        for (byte[] good : new byte[][] {goodFile(), gzip(goodFile())}) {
            for (int cut = 0; cut < good.length; cut++) {
                try {
                    fails(Arrays.copyOf(good, cut));
                } catch (AssertionError e) {
                    fail("cut at " + cut + " of " + good.length + (good[0] == 0x1f ? " gzip" : " plain") + " bytes", e);
                }
            }
        }
    }

    @Test
    void anEmptyFileSaysSo() throws IOException {
        assertMessage(fails(new byte[0]), 0, false, "the file ends after 0 bytes, inside the 4-byte magic number");
    }

    @Test
    void aBadMagicNumberIsRefused() throws IOException {
        assertMessage(fails(bytes('P', 'K', 3, 4, 0, 0, 0, 0)), 0, false,
                "bad magic number 50 4b 03 04", "starts with 00 00, a type byte and a dimension count");
        assertMessage(fails(bytes(0, 1, 8, 1, 0, 0, 0, 0)), 0, false, "bad magic number 00 01 08 01");
    }

    @Test
    void anUnknownTypeIsRefused() throws IOException {
        assertMessage(fails(bytes(0, 0, 0x0A, 1, 0, 0, 0, 0)), 2, false, "unknown IDX data type 0x0A");
        assertMessage(fails(gzip(bytes(0, 0, 0xFF, 1, 0, 0, 0, 0))), 2, true, "unknown IDX data type 0xFF");
    }

    @Test
    void aTruncatedHeaderNamesTheDimension() throws IOException {
        byte[] cut = Arrays.copyOf(idx(UBYTE, new int[] {10, 28, 28}, new byte[0]), 4 + 4 + 4 + 2);
        assertMessage(fails(cut), 14, false, "the file ends inside the header, in dimension 2 of 3");
        assertMessage(fails(gzip(cut)), 14, true, "in dimension 2 of 3");
    }

    @Test
    void truncatedDataInAPlainFileIsRefusedBeforeReading() throws IOException {
        byte[] file = idx(UBYTE, new int[] {10}, new byte[7]);
        assertMessage(fails(file), 15, false,
                "dimensions [10] of ubyte need 10 data bytes after the 8-byte header, but the file holds 7 (truncated file?)");
    }

    @Test
    void truncatedDataInAGzipFileIsReportedWhereItEnds() throws IOException {
        byte[] file = gzip(idx(INT, new int[] {2, 5}, ints(1, 2, 3, 4, 5, 6, 7)));
        assertMessage(fails(file), 8 + 4 + 28, true,
                "the data ends inside element 7 of 10 (dimensions [2, 5] of int; truncated file?)");
        byte[] midElement = gzip(Arrays.copyOf(idx(INT, new int[] {3}, ints(1, 2, 3)), 8 + 6));
        assertMessage(fails(midElement), 8 + 6, true, "inside element 1 of 3");
    }

    @Test
    void extraDataAfterTheElementsIsRefused() throws IOException {
        byte[] file = idx(UBYTE, new int[] {3}, bytes(1, 2, 3, 4, 5));
        assertMessage(fails(file), 11, false, "need 3 data bytes after the 8-byte header, but the file holds 5 (extra bytes at the end)");
        assertMessage(fails(gzip(file)), 11, true, "more data than dimensions [3] of ubyte describe");
    }

    @Test
    void aCutGzipStreamIsReportedAsDamaged() throws IOException {
        byte[] pixels = new byte[5000];
        new java.util.Random(1).nextBytes(pixels);
        byte[] gz = gzip(idx(UBYTE, new int[] {5000}, pixels));
        IdxFormatException e = fails(Arrays.copyOf(gz, gz.length / 2));
        assertTrue(e.compressed());
        assertTrue(e.getMessage().contains("the gzip data is damaged or cut short"), e.getMessage());
        assertTrue(e.byteOffset() > 8 && e.byteOffset() < 8 + 5000, e.getMessage());
    }

    @Test
    void aGzipChecksumMismatchIsReported() throws IOException {
        byte[] gz = gzip(goodFile());
        gz[gz.length - 8] ^= 0x55; // the CRC-32 in the trailer
        IdxFormatException e = fails(gz);
        assertMessage(e, goodFile().length, true, "the gzip data is damaged or cut short");
    }

    @Test
    void aDamagedGzipHeaderIsReported() throws IOException {
        byte[] gz = gzip(goodFile());
        gz[2] = 7; // compression method: only 8 (deflate) exists
        assertMessage(fails(gz), 0, true, "the gzip header is damaged");
    }

    @Test
    void aDimensionBeyondIntRangeIsRefused() throws IOException {
        byte[] file = idx(UBYTE, new int[] {3, -1}, new byte[0]);
        assertMessage(fails(file), 8, false, "dimension 1 is 4294967295, more than a tensor dimension can be");
    }

    @Test
    void dimensionsWhoseProductOverflowsAreRefused() throws IOException {
        byte[] file = idx(UBYTE, new int[] {65536, 65536}, new byte[16]);
        assertMessage(fails(file), 4, false, "dimensions [65536, 65536] describe more than 2^31-1 elements");
        assertMessage(fails(gzip(file)), 4, true, "describe more than 2^31-1 elements");
    }

    @Test
    void aHeaderClaimingGigabytesAllocatesNothingItCannotFill() throws IOException {
        // 2^31-1 doubles is 16 GiB: allocating it up front would throw OutOfMemoryError, not this
        byte[] file = idx(DOUBLE, new int[] {Integer.MAX_VALUE}, new byte[80]);
        assertMessage(fails(file, DType.FLOAT64), 4 + 4 + 80, false, "need 17179869176 data bytes", "holds 80");
        assertMessage(fails(gzip(file), DType.FLOAT64), 4 + 4 + 80, true, "the data ends inside element 10 of 2147483647");
        IdxFormatException fromStream = assertThrows(IdxFormatException.class,
                () -> IdxReader.read(new ByteArrayInputStream(file), "hdfs://data/x.idx", DType.FLOAT64));
        assertMessage(fromStream, 4 + 4 + 80, false, "hdfs://data/x.idx", "the data ends inside element 10 of 2147483647");
    }

    @Test
    void floatDataIsNotReadAsLabels() throws IOException {
        byte[] file = idx(FLOAT, new int[] {2}, floats(1, 2));
        Path path = dir.resolve("float-labels.idx");
        Files.write(path, file);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readLabels(path));
        assertMessage(e, 2, false, "holds float data, which cannot be read as int64 labels; read it as float32 or float64");
        assertMessage(fails(idx(DOUBLE, new int[] {1}, new byte[8]), DType.INT64), 2, false, "holds double data");
    }

    @Test
    void onlyUnsignedBytesScaleAsImages() throws IOException {
        Path path = dir.resolve("int-images.idx");
        Files.write(path, idx(INT, new int[] {1}, ints(200)));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readImages(path));
        assertMessage(e, 2, false, "holds int data, but only ubyte pixels (0..255) scale to [0, 1]");
    }
}
