package io.sparkgrad.io;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.sparkgrad.io.TensorBits.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensors come back from a safetensors file exactly as they went in, and the bytes follow the format. */
class SafeTensorsRoundTripTest {

    @TempDir
    Path dir;

    /** Every dtype at ranks 0 to 5, empty shapes and the float values that are easy to get wrong. */
    static Map<String, Tensor> variety() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("f32.scalar", Tensor.scalar(-2.5));
        m.put("f32.vector", Tensor.of(new float[] {1, -2, 3.25f}, 3));
        m.put("f32.matrix", Tensor.arange(0, 12, 1, DType.FLOAT32).reshape(3, 4));
        m.put("f32.rank5", Tensor.arange(0, 2 * 1 * 3 * 1 * 2, 1, DType.FLOAT32).reshape(2, 1, 3, 1, 2));
        m.put("f32.empty", Tensor.zeros(DType.FLOAT32, 0));
        m.put("f32.special", Tensor.of(new float[] {Float.NaN, Float.intBitsToFloat(0x7fc00001), Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.MIN_NORMAL}, 2, 4));
        m.put("f64.scalar", Tensor.scalar(Math.PI, DType.FLOAT64));
        m.put("f64.rank3", Tensor.arange(0, 24, 1, DType.FLOAT64).div(7).reshape(2, 3, 4));
        m.put("f64.empty", Tensor.zeros(DType.FLOAT64, 2, 0, 3));
        m.put("f64.special", Tensor.of(new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                -0.0, Double.MIN_VALUE, Double.MAX_VALUE, 0.1}, 7));
        m.put("i64.scalar", Tensor.scalar(42, DType.INT64));
        m.put("i64.labels", Tensor.of(new long[] {0, 9, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40}, 2, 3));
        m.put("i64.empty", Tensor.zeros(DType.INT64, 0, 5));
        return m;
    }

    @Test
    void everyDtypeRankAndSpecialValueSurvivesAFile() throws IOException {
        Map<String, Tensor> tensors = variety();
        Path file = dir.resolve("variety.safetensors");
        SafeTensors.save(tensors, Map.of("format", "pt", "note", "ünïcødé ✓"), file);

        SafeTensors.Contents back = SafeTensors.load(file);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(back.tensors().keySet()), "header order is kept");
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            assertSameBits(e.getValue(), back.tensors().get(e.getKey()), e.getKey());
        }
        assertEquals(Map.of("format", "pt", "note", "ünïcødé ✓"), back.metadata());
    }

    @Test
    void streamsRoundTripWithAndWithoutAKnownLength() throws IOException {
        Map<String, Tensor> tensors = variety();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(tensors, Map.of(), out);
        byte[] bytes = out.toByteArray();

        for (SafeTensors.Contents back : List.of(
                SafeTensors.read(new ByteArrayInputStream(bytes), "stream"),
                SafeTensors.read(new ByteArrayInputStream(bytes), bytes.length, "stream"))) {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                assertSameBits(e.getValue(), back.tensors().get(e.getKey()), e.getKey());
            }
            assertTrue(back.metadata().isEmpty());
        }
    }

    @Test
    void tensorsLargerThanOneReadChunkArriveWholeFromAStream() throws IOException {
        // 200_003 floats and 70_007 longs: several 64 KiB chunks, and ends that are not chunk-aligned,
        // so the array growth used for streams of unknown length is exercised.
        float[] big = new float[200_003];
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.5f - 7;
        }
        long[] longs = new long[70_007];
        for (int i = 0; i < longs.length; i++) {
            longs[i] = (long) i * i - 3;
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("big", Tensor.of(big, 200_003));
        tensors.put("longs", Tensor.of(longs, 7, 10_001, 1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(tensors, Map.of(), out);

        SafeTensors.Contents back = SafeTensors.read(new ByteArrayInputStream(out.toByteArray()), "stream");
        assertArrayEquals(big, back.tensors().get("big").toFloatArray());
        assertArrayEquals(longs, back.tensors().get("longs").toLongArray());
    }

    @Test
    void viewsAreWrittenInTheirLogicalRowMajorOrder() throws IOException {
        Tensor base = Tensor.arange(0, 12, 1, DType.FLOAT32).reshape(3, 4);
        Map<String, Tensor> views = new LinkedHashMap<>();
        views.put("transposed", base.t());
        views.put("sliced", base.slice(1, 1, 4, 2));
        views.put("offset_row", base.select(0, 2));
        views.put("expanded", Tensor.of(new double[] {1, 2}, 2, 1).expand(2, 3));
        Path file = dir.resolve("views.safetensors");
        SafeTensors.save(views, file);

        Map<String, Tensor> back = SafeTensors.load(file).tensors();
        assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, back.get("transposed").toFloatArray());
        assertArrayEquals(new int[] {4, 3}, back.get("transposed").shape());
        assertArrayEquals(new float[] {1, 3, 5, 7, 9, 11}, back.get("sliced").toFloatArray());
        assertArrayEquals(new float[] {8, 9, 10, 11}, back.get("offset_row").toFloatArray());
        assertArrayEquals(new double[] {1, 1, 1, 2, 2, 2}, back.get("expanded").toDoubleArray());
        for (Tensor t : back.values()) {
            assertTrue(t.isContiguous());
        }
    }

    @Test
    void loadedTensorsOwnTheirStorageAndAreNotInAGraph() throws IOException {
        Tensor w = Tensor.of(new float[] {1, 2, 3}, 3).requiresGrad_();
        Path file = dir.resolve("w.safetensors");
        SafeTensors.save(Map.of("w", w), file);
        Tensor loaded = SafeTensors.load(file).tensors().get("w");
        loaded.mul_(10);
        assertArrayEquals(new float[] {1, 2, 3}, w.toFloatArray());
        assertFalse(loaded.requiresGrad());
        assertTrue(loaded.isLeaf());
    }

    @Test
    void aSmallFileHasExactlyTheBytesTheFormatPrescribes() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.of(new float[] {1.0f, -2.0f}, 2));
        tensors.put("n", Tensor.of(new long[] {258}, 1));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(tensors, Map.of("format", "pt"), out);
        byte[] bytes = out.toByteArray();

        String json = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        int padded = (json.length() + 7) / 8 * 8;
        ByteBuffer expected = ByteBuffer.allocate(8 + padded + 16).order(ByteOrder.LITTLE_ENDIAN);
        expected.putLong(padded);
        expected.put((json + " ".repeat(padded - json.length())).getBytes(StandardCharsets.UTF_8));
        expected.putFloat(1.0f).putFloat(-2.0f).putLong(258);
        assertArrayEquals(expected.array(), bytes);
        // the little-endian encoding spelled out: 258 = 0x0102 is stored 02 01 00 ...
        assertEquals(0x02, bytes[8 + padded + 8]);
        assertEquals(0x01, bytes[8 + padded + 9]);
    }

    @Test
    void theHeaderIsPaddedWithSpacesSoTheDataStartsEightByteAligned() throws IOException {
        for (int nameLength = 1; nameLength <= 16; nameLength++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SafeTensors.write(Map.of("x".repeat(nameLength), Tensor.ones(3)), Map.of(), out);
            byte[] bytes = out.toByteArray();
            long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length for a name of " + nameLength);
            assertEquals(8 + n + 12, bytes.length);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.stripTrailing().endsWith("}"), header);
            assertTrue(header.substring(header.lastIndexOf('}') + 1).chars().allMatch(c -> c == ' '), header);
        }
    }

    @Test
    void noMetadataMeansNoMetadataEntry() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(Map.of("a", Tensor.ones(1)), Map.of(), out);
        assertFalse(new String(out.toByteArray(), StandardCharsets.UTF_8).contains("__metadata__"));
    }

    @Test
    void anEmptyMapMakesAValidFileWithNoTensors() throws IOException {
        Path file = dir.resolve("empty.safetensors");
        SafeTensors.save(Map.of(), Map.of("k", "v"), file);
        SafeTensors.Contents back = SafeTensors.load(file);
        assertTrue(back.tensors().isEmpty());
        assertEquals(Map.of("k", "v"), back.metadata());
    }

    @Test
    void badArgumentsAreRefusedWithTheirName() {
        Map<String, Tensor> withNull = new LinkedHashMap<>();
        withNull.put("ok", Tensor.ones(1));
        withNull.put("missing", null);
        String m = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(withNull, Map.of(), new ByteArrayOutputStream())).getMessage();
        assertTrue(m.contains("'missing' is null"), m);

        m = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(Map.of("__metadata__", Tensor.ones(1)),
                Map.of(), new ByteArrayOutputStream())).getMessage();
        assertTrue(m.contains("reserved"), m);

        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        m = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(Map.of("a", Tensor.ones(1)), nullValue, new ByteArrayOutputStream())).getMessage();
        assertTrue(m.contains("metadata") && m.contains("k"), m);
    }

    @Test
    void contentsCannotBeModified() throws IOException {
        Path file = dir.resolve("a.safetensors");
        SafeTensors.save(Map.of("a", Tensor.ones(1)), file);
        SafeTensors.Contents c = SafeTensors.load(file);
        assertThrows(UnsupportedOperationException.class, () -> c.tensors().put("b", Tensor.ones(1)));
        assertThrows(UnsupportedOperationException.class, () -> c.metadata().put("b", "c"));
        assertTrue(Files.size(file) > 8);
    }
}
