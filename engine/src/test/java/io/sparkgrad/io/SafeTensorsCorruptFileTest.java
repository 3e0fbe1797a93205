package io.sparkgrad.io;

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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Truncated, corrupt and hostile files are refused with a {@link SafeTensorsFormatException} that
 * names the file, the tensor and the byte offset, and never with an allocation the file cannot back.
 */
class SafeTensorsCorruptFileTest {

    @TempDir
    Path dir;

    private int fileCounter;

    /** A file of the given header JSON (unpadded) followed by {@code dataBytes} zero bytes. */
    private static byte[] craft(String json, int dataBytes) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return craft(header.length, header, new byte[dataBytes]);
    }

    private static byte[] craft(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        return b.array();
    }

    /** Where {@code token} first appears in the file crafted from {@code json}. */
    private static long offsetOf(String json, String token) {
        int i = json.indexOf(token);
        assertTrue(i >= 0, token + " not in " + json);
        return 8 + json.substring(0, i).getBytes(StandardCharsets.UTF_8).length;
    }

    /** Loads {@code bytes} from a real file and returns the failure, checking what every message must say. */
    private SafeTensorsFormatException loadFails(byte[] bytes) throws IOException {
        Path file = dir.resolve("bad-" + (fileCounter++) + ".safetensors");
        Files.write(file, bytes);
        SafeTensorsFormatException e = assertThrows(SafeTensorsFormatException.class, () -> SafeTensors.load(file));
        assertEquals(file.toString(), e.source());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("byte offset " + e.byteOffset()), e.getMessage());
        if (e.tensorName() != null) {
            assertTrue(e.getMessage().contains("tensor '" + SafeTensorsFormatException.printable(e.tensorName()) + "'"),
                    e.getMessage());
        }
        return e;
    }

    private static SafeTensorsFormatException streamFails(byte[] bytes) {
        return assertThrows(SafeTensorsFormatException.class,
                () -> SafeTensors.read(new ByteArrayInputStream(bytes), "s3://bucket/model.safetensors"));
    }

    private static void assertMessage(SafeTensorsFormatException e, String tensor, long offset, String... parts) {
        assertEquals(tensor, e.tensorName(), e.getMessage());
        assertEquals(offset, e.byteOffset(), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected \"" + p + "\" in: " + e.getMessage());
        }
    }

    private static byte[] goodFile() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.of(new float[] {1, 2, 3}, 3));
        m.put("b", Tensor.of(new long[] {4, 5}, 2));
        m.put("c", Tensor.of(new double[] {6, 7, 8, 9}, 2, 2));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(m, Map.of("format", "pt"), out);
        return out.toByteArray();
    }

    // ------------------------------------------------------------------ truncation

    @Test
    void everyTruncationOfAGoodFileIsRefusedAsAFormatError() throws IOException {
        byte[] good = goodFile();
        for (int cut = 0; cut < good.length; cut++) {
            byte[] truncated = Arrays.copyOf(good, cut);
            try {
                loadFails(truncated);
                SafeTensorsFormatException s = streamFails(truncated);
                assertTrue(s.getMessage().startsWith("s3://bucket/model.safetensors"), s.getMessage());
            } catch (AssertionError | IOException e) {
                fail("truncated at " + cut + " of " + good.length + " bytes", e);
            }
        }
    }

    @Test
    void aFileShorterThanTheLengthPrefixSaysSo() throws IOException {
        assertMessage(loadFails(new byte[0]), null, 0, "the file is 0 bytes long", "8-byte header length");
        assertMessage(loadFails(new byte[] {1, 0, 0, 0, 0}), null, 5, "the file is 5 bytes long");
        assertMessage(streamFails(new byte[] {1, 0, 0}), null, 3, "the file is 3 bytes long");
    }

    @Test
    void aTruncatedHeaderIsNamedWithItsDeclaredLength() throws IOException {
        byte[] good = goodFile();
        long n = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] cut = Arrays.copyOf(good, 8 + 20);
        assertMessage(loadFails(cut), null, 0, "header length " + n, "only 20 bytes after the length");
        assertMessage(streamFails(cut), null, 28, "the file ends inside the " + n + "-byte header");
    }

    @Test
    void truncatedDataNamesTheTensorItCutsInto() throws IOException {
        byte[] good = goodFile();
        long dataStart = 8 + ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong();
        // a: [0, 12), b: [12, 28), c: [28, 60) in the data section
        int insideB = (int) dataStart + 12 + 5;
        byte[] cut = Arrays.copyOf(good, insideB);
        SafeTensorsFormatException file = loadFails(cut);
        assertEquals("b", file.tensorName());
        assertTrue(file.getMessage().contains("data_offsets [12, 28] end past the data section, which holds 17 bytes"),
                file.getMessage());
        assertMessage(streamFails(cut), "b", insideB, "the file ends inside this tensor's data",
                "[" + (dataStart + 12) + ", " + (dataStart + 28) + ")");

        byte[] atBoundary = Arrays.copyOf(good, (int) dataStart + 28);
        assertEquals("c", loadFails(atBoundary).tensorName());
        assertMessage(streamFails(atBoundary), "c", dataStart + 28, "the file ends inside this tensor's data");
    }

    @Test
    void bytesAfterTheLastTensorAreRefused() throws IOException {
        byte[] good = goodFile();
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        assertMessage(loadFails(longer), null, good.length, "3 unexpected bytes after the end of the last tensor's data");
        assertMessage(streamFails(longer), null, good.length, "unexpected bytes after the end of the last tensor's data");
    }

    // ------------------------------------------------------------------ the length prefix

    @Test
    void aHeaderLengthBeyondTheFileIsRefusedBeforeAllocating() throws IOException {
        byte[] bytes = craft(1_000_000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertMessage(loadFails(bytes), null, 0, "header length 1000000 runs past the end of the file",
                "holds only 2 bytes");
    }

    @Test
    void aHugeOrNegativeHeaderLengthIsRefusedBeforeAllocating() throws IOException {
        byte[] huge = craft(1L << 40, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertMessage(loadFails(huge), null, 0, "header length 1099511627776 is more than the limit of 100000000 bytes");
        assertMessage(streamFails(huge), null, 0, "is more than the limit");
        byte[] topBitSet = craft(-8, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertMessage(loadFails(topBitSet), null, 0, "header length 18446744073709551608 is more than the limit");
        // just under the cap: a stream must not allocate 100 MB for a header that is not there
        byte[] bigClaim = craft(99_999_999, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]);
        assertMessage(streamFails(bigClaim), null, 10, "the file ends inside the 99999999-byte header");
    }

    // ------------------------------------------------------------------ the JSON

    @Test
    void brokenJsonIsReportedWithItsOffset() throws IOException {
        String json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1] \"data_offsets\": [0, 4]}}";
        SafeTensorsFormatException e = loadFails(craft(json, 4));
        assertMessage(e, "a", e.byteOffset(), "the header is not valid JSON");
        assertTrue(e.byteOffset() >= offsetOf(json, "[1]") && e.byteOffset() <= offsetOf(json, "\"data_offsets\""),
                e.getMessage());

        SafeTensorsFormatException cutShort = loadFails(craft("{\"a\": {\"dtype\": \"F3", 0));
        assertTrue(cutShort.getMessage().contains("not valid JSON"), cutShort.getMessage());
    }

    @Test
    void invalidUtf8InTheHeaderIsRefused() throws IOException {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '{', '}', '}'};
        SafeTensorsFormatException e = loadFails(craft(header.length, header, new byte[0]));
        assertTrue(e.getMessage().contains("not valid JSON") && e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void aHeaderThatIsNotAnObjectIsRefused() throws IOException {
        assertMessage(loadFails(craft("[1, 2]", 0)), null, 8, "the header must be a JSON object, found an array");
        assertMessage(loadFails(craft("   ", 0)), null, 11, "found the end of the header");
    }

    @Test
    void contentAfterTheHeaderObjectIsRefused() throws IOException {
        String json = "{} {\"a\": 1}";
        assertMessage(loadFails(craft(json, 0)), null, offsetOf(json, "{\"a\""), "unexpected content (an object) after the header's JSON object");
    }

    @Test
    void anEntryThatIsNotAnObjectIsRefused() throws IOException {
        String json = "{\"w\": [1, 2]}";
        assertMessage(loadFails(craft(json, 0)), "w", offsetOf(json, "[1"), "expected an object with dtype, shape and data_offsets");
    }

    // ------------------------------------------------------------------ entries

    @Test
    void anUnknownDtypeIsRefused() throws IOException {
        for (String dtype : new String[] {"F16", "BF16", "I32", "U8", "BOOL", "Q4_K", "f32"}) {
            String json = "{\"w\": {\"dtype\": \"" + dtype + "\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
            assertMessage(loadFails(craft(json, 4)), "w", offsetOf(json, "\"" + dtype + "\""),
                    "unsupported dtype '" + dtype + "'", "F32, F64 and I64");
        }
        String numeric = "{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}";
        assertMessage(loadFails(craft(numeric, 4)), "w", offsetOf(numeric, "32"), "dtype must be a string, found the number 32");
    }

    @Test
    void aNegativeDimensionIsRefused() throws IOException {
        String json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 8]}}";
        assertMessage(loadFails(craft(json, 8)), "w", offsetOf(json, "-1"), "negative dimension -1");
    }

    @Test
    void aShapeOfMoreThan64DimensionsIsRefused() throws IOException {
        String ones = "1, ".repeat(SafeTensorsHeader.MAX_RANK);
        String deep = "{\"w\": {\"dtype\": \"F32\", \"shape\": [" + ones + "1], \"data_offsets\": [0, 4]}}";
        assertMessage(loadFails(craft(deep, 4)), "w", offsetOf(deep, "1]"), "shape has more than 64 dimensions");
        String deepest = "{\"w\": {\"dtype\": \"F32\", \"shape\": [" + ones.substring(0, ones.length() - 2)
                + "], \"data_offsets\": [0, 4]}}";
        Path file = dir.resolve("deepest.safetensors");
        Files.write(file, craft(deepest, 4));
        assertEquals(SafeTensorsHeader.MAX_RANK, SafeTensors.load(file).tensors().get("w").dim(), "64 dimensions are fine");
    }

    @Test
    void nonIntegerAndOversizedDimensionsAreRefused() throws IOException {
        String fractional = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}";
        assertMessage(loadFails(craft(fractional, 8)), "w", offsetOf(fractional, "2.5"),
                "dimension must be a whole number, found the number 2.5");
        String tooBig = "{\"w\": {\"dtype\": \"F32\", \"shape\": [3000000000], \"data_offsets\": [0, 8]}}";
        assertMessage(loadFails(craft(tooBig, 8)), "w", offsetOf(tooBig, "3000000000"),
                "dimension 3000000000 is larger than 2147483647");
        String huge = "{\"w\": {\"dtype\": \"F32\", \"shape\": [123456789012345678901234567890], \"data_offsets\": [0, 8]}}";
        assertMessage(loadFails(craft(huge, 8)), "w", offsetOf(huge, "1234"), "out of range");
        String notArray = "{\"w\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}";
        assertMessage(loadFails(craft(notArray, 16)), "w", offsetOf(notArray, "4,"), "shape must be an array");
    }

    @Test
    void anElementCountBeyondIntRangeIsRefusedBeforeAllocating() throws IOException {
        String json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [65536, 65536], \"data_offsets\": [0, 17179869184]}}";
        assertMessage(loadFails(craft(json, 0)), "w", offsetOf(json, "{\"dtype"), "has more than 2^31-1 elements");
    }

    @Test
    void offsetsOutsideTheDataSectionAreRefused() throws IOException {
        String json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [100], \"data_offsets\": [0, 400]}}";
        assertMessage(loadFails(craft(json, 200)), "w", offsetOf(json, "[0, 400]"),
                "data_offsets [0, 400] end past the data section, which holds 200 bytes");
        assertMessage(streamFails(craft(json, 200)), "w", 8 + json.length() + 200, "the file ends inside this tensor's data");

        String beyond = "{\"w\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [1000, 1008]}}";
        assertMessage(loadFails(craft(beyond, 16)), "w", offsetOf(beyond, "[1000"), "end past the data section, which holds 16 bytes");
        assertMessage(streamFails(craft(beyond, 16)), "w", 8 + beyond.length() + 16,
                "the file ends before this tensor's data, which starts at byte offset " + (8 + beyond.length() + 1000));
    }

    @Test
    void backwardsOrNegativeOffsetsAreRefused() throws IOException {
        String backwards = "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}";
        assertMessage(loadFails(craft(backwards, 8)), "w", offsetOf(backwards, "[8, 4]"), "data_offsets [8, 4] end before they begin");
        String negative = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}";
        assertMessage(loadFails(craft(negative, 4)), "w", offsetOf(negative, "-4"), "negative data offset -4");
        String three = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}";
        assertMessage(loadFails(craft(three, 8)), "w", offsetOf(three, "8]"), "exactly two numbers");
        String one = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4]}}";
        assertMessage(loadFails(craft(one, 4)), "w", offsetOf(one, "4]") + 1, "exactly two numbers [begin, end], found 1");
    }

    @Test
    void aByteLengthThatDoesNotMatchTheShapeIsRefused() throws IOException {
        String json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}";
        assertMessage(loadFails(craft(json, 20)), "w", offsetOf(json, "[0, 20]"),
                "shape [2, 3] of F32 needs 24 bytes, but data_offsets [0, 20] span 20");
        String f64 = "{\"x\": {\"dtype\": \"F64\", \"shape\": [3], \"data_offsets\": [0, 12]}}";
        assertMessage(loadFails(craft(f64, 12)), "x", offsetOf(f64, "[0, 12]"), "shape [3] of F64 needs 24 bytes");
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        String json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                + " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}";
        assertMessage(loadFails(craft(json, 24)), "b", offsetOf(json, "[8, 24]"),
                "data_offsets [8, 24] overlap those of tensor 'a' [0, 16]");
        assertMessage(streamFails(craft(json, 24)), "b", offsetOf(json, "[8, 24]"), "overlap");
    }

    @Test
    void emptyTensorsMayShareAnOffsetAndGapsAreSkipped() throws IOException {
        String json = "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]},"
                + " \"e\": {\"dtype\": \"F64\", \"shape\": [0, 3], \"data_offsets\": [8, 8]}}";
        byte[] bytes = craft(json, 12);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putFloat(8 + json.length() + 8, 2.5f);
        Path file = dir.resolve("gap.safetensors");
        Files.write(file, bytes);
        for (SafeTensors.Contents c : new SafeTensors.Contents[] {SafeTensors.load(file),
                SafeTensors.read(new ByteArrayInputStream(bytes), "gap")}) {
            assertEquals(2.5f, c.tensors().get("a").toFloatArray()[0]);
            assertEquals(0, c.tensors().get("e").numel());
        }
    }

    @Test
    void aDuplicateTensorNameIsRefused() throws IOException {
        String json = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                + " \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}";
        assertMessage(loadFails(craft(json, 8)), "w", json.lastIndexOf("\"w\"") + 8L, "duplicate name: the header lists 'w' twice");
    }

    @Test
    void aDuplicateOrUnknownOrMissingFieldIsRefused() throws IOException {
        String dup = "{\"w\": {\"dtype\": \"F32\", \"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 4]}}";
        assertMessage(loadFails(craft(dup, 4)), "w", offsetOf(dup, "\"F64\""), "lists \"dtype\" twice");
        String unknown = "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offset\": [0, 4]}}";
        assertMessage(loadFails(craft(unknown, 4)), "w", offsetOf(unknown, "[0, 4]"), "unknown field \"data_offset\"");
        String missing = "{\"w\": {\"shape\": [1]}}";
        assertMessage(loadFails(craft(missing, 0)), "w", offsetOf(missing, "{\"shape"), "the entry lacks [dtype, data_offsets]");
    }

    @Test
    void metadataMustBeAnObjectOfStrings() throws IOException {
        String number = "{\"__metadata__\": {\"epoch\": 3}}";
        assertMessage(loadFails(craft(number, 0)), null, offsetOf(number, "3"),
                "__metadata__ values must be strings, but 'epoch' is the number 3");
        String array = "{\"__metadata__\": [\"a\"]}";
        assertMessage(loadFails(craft(array, 0)), null, offsetOf(array, "["), "must be a JSON object of strings");
        String twice = "{\"__metadata__\": {}, \"__metadata__\": {}}";
        assertMessage(loadFails(craft(twice, 0)), null, twice.lastIndexOf("\"__") + 8L, "duplicate name: the header lists '__metadata__' twice");
    }

    @Test
    void aFileFromSomethingElseIsRefusedWithoutAllocating() throws IOException {
        // a PNG signature followed by junk: its first 8 bytes read as an enormous header length
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        assertMessage(loadFails(png), null, 0, "is more than the limit", "not a safetensors file");
        // a zip (PyTorch's own .pt format): "PK\3\4" ...
        byte[] zip = Arrays.copyOf(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0}, 64);
        assertTrue(loadFails(zip).getMessage().contains("not a safetensors file"));
    }

    /**
     * Found by fuzzing: a tensor name is the file's own text, so an error that quoted it verbatim
     * could span lines, carry terminal escape codes or be megabytes long. Messages quote it escaped
     * and cut; {@code tensorName()} still gives the name as it is.
     */
    @Test
    void aHostileTensorNameIsQuotedOnOneShortLine() throws IOException {
        String name = "evil\n\u001b[31mred";
        String json = "{\"" + name.replace("\n", "\\n").replace("\u001b", "\\u001b")
                + "\": {\"dtype\": \"F16\", \"shape\": [1], \"data_offsets\": [0, 2]}}";
        SafeTensorsFormatException e = loadFails(craft(json, 2));
        assertEquals(name, e.tensorName());
        assertTrue(e.getMessage().contains("tensor 'evil\\u000a\\u001b[31mred'"), e.getMessage());
        assertTrue(e.getMessage().contains("unsupported dtype 'F16'"), e.getMessage());

        // Jackson refuses names over 50,000 characters itself; a name under that and a longer dtype get here
        String name40k = "n".repeat(40_000);
        String dtype200k = "d".repeat(200_000);
        String hugeJson = "{\"" + name40k + "\": {\"dtype\": \"" + dtype200k + "\", \"shape\": [1], "
                + "\"data_offsets\": [0, 4]}}";
        SafeTensorsFormatException h = loadFails(craft(hugeJson, 4));
        assertEquals(name40k, h.tensorName());
        assertTrue(h.getMessage().length() < 500, h.getMessage().length() + " characters");
        assertTrue(h.getMessage().contains("n… (40000 characters)"), h.getMessage());
        assertTrue(h.getMessage().contains("d… (200000 characters)"), h.getMessage());
    }
}
