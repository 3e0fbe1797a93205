package io.sparkgrad.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.io.SafeTensorsFormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded fuzzing of the safetensors reader (issue 8, "Bad and hostile input"). Every mutant of a
 * valid file (PyTorch's and Sparkgrad's own) is read twice, with its length known (a file) and as a
 * stream of unknown length; each read must either give exactly the tensors an independent decoding
 * of the same bytes gives, or throw {@link SafeTensorsFormatException} with a one-line message that
 * names the source and a byte offset inside the input, and both reads must agree. Reading may
 * allocate only a small multiple of the input's size ({@link FuzzRun}).
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class SafeTensorsFuzzTest {
    private static final Duration FAMILY_LIMIT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = "fuzz.safetensors";

    private static final List<byte[]> BASES = new ArrayList<>();
    private static byte[] torchMlp;

    @TempDir
    Path dir;

    @BeforeAll
    static void bases() throws IOException {
        BASES.add(resource("/interop/torch_tensors.safetensors"));
        BASES.add(resource("/model-interop/torch_logits.safetensors"));
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("w", Tensor.arange(12).reshape(3, 4));
        t.put("d", Tensor.arange(5).to(io.sparkgrad.DType.FLOAT64));
        t.put("i", Tensor.arange(4).to(io.sparkgrad.DType.INT64));
        t.put("scalar", Tensor.scalar(2.5));
        t.put("empty", Tensor.zeros(0, 7));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SafeTensors.write(t, Map.of("format", "pt", "note", "fuzz base"), out);
        BASES.add(out.toByteArray());
        ByteArrayOutputStream none = new ByteArrayOutputStream();
        SafeTensors.write(Map.of(), Map.of(), none);
        BASES.add(none.toByteArray());
        torchMlp = resource("/model-interop/torch_mlp.safetensors");
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = SafeTensorsFuzzTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    // ------------------------------------------------------------------ the families

    /** Every truncation of every small base, and extensions by 1 to 16 bytes: all must be refused. */
    @Test
    void truncationsAtEveryOffsetAndExtensions() {
        FuzzRun run = new FuzzRun("safetensors-truncate", FuzzRun.seed(0), SafeTensorsFormatException.class);
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            for (byte[] base : BASES) {
                if (base.length > 4096) {
                    continue;
                }
                for (int length = 0; length < base.length; length++) {
                    byte[] cut = Arrays.copyOf(base, length);
                    assertTrue(readBoth(run, "truncate to " + length, cut) == null, "truncated to " + length);
                }
                for (int extra = 1; extra <= 16; extra++) {
                    byte[] longer = Arrays.copyOf(base, base.length + extra);
                    assertTrue(readBoth(run, "extend by " + extra, longer) == null, "extended by " + extra);
                }
            }
            // a real file, through load(Path), at a few cuts of PyTorch's larger file
            for (int length : new int[] {0, 7, 8, 9, 100, torchMlp.length / 2, torchMlp.length - 1}) {
                Path file = dir.resolve("cut-" + length + ".safetensors");
                Files.write(file, Arrays.copyOf(torchMlp, length));
                run.attempt("load truncated to " + length, Arrays.copyOf(torchMlp, length), length,
                        () -> SafeTensors.load(file), c -> fail("accepted a truncated file"), e -> { });
            }
        });
        System.out.print(run.summary());
        assertEquals(0, run.count("accepted"));
    }

    /** Random stacked byte mutations, half of them at the header's punctuation and numbers. */
    @Test
    void randomByteMutations() {
        FuzzRun run = new FuzzRun("safetensors-bytes", FuzzRun.seed(1), SafeTensorsFormatException.class);
        ByteMutator m = new ByteMutator(FuzzRun.seed(1));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int n = FuzzRun.scaled(6000);
            for (int i = 0; i < n; i++) {
                byte[] base = BASES.get(i % BASES.size());
                ByteMutator.Mutant mutant = m.mutate(base, interestingOffsets(base));
                readBoth(run, mutant.how(), mutant.bytes());
            }
            for (int i = 0; i < FuzzRun.scaled(200); i++) {
                ByteMutator.Mutant mutant = m.mutate(torchMlp, interestingOffsets(torchMlp));
                readBoth(run, "torch_mlp: " + mutant.how(), mutant.bytes());
            }
        });
        System.out.print(run.summary());
        assertTrue(run.rejected() > run.inputs() / 4, "most mutants touch the header; few should load");
    }

    /** Header fields set to extreme, mistyped, overlapping or mismatched values, in a re-encoded header. */
    @Test
    void headerFieldEdits() {
        FuzzRun run = new FuzzRun("safetensors-header", FuzzRun.seed(2), SafeTensorsFormatException.class);
        ByteMutator m = new ByteMutator(FuzzRun.seed(2));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int n = FuzzRun.scaled(4000);
            for (int i = 0; i < n; i++) {
                byte[] base = BASES.get(i % (BASES.size() - 1)); // the empty file has no fields to edit
                ByteMutator.Mutant mutant = new HeaderEditor(m, base).edit();
                readBoth(run, mutant.how(), mutant.bytes());
            }
        });
        System.out.print(run.summary());
        assertTrue(run.count("accepted") > 0 && run.rejected() > run.inputs() / 2, run.summary());
    }

    /** Changes confined to tensor data are not errors: every such file loads, with the changed values. */
    @Test
    void dataSectionMutationsLoadWithTheNewValues() {
        FuzzRun run = new FuzzRun("safetensors-data", FuzzRun.seed(3), SafeTensorsFormatException.class);
        ByteMutator m = new ByteMutator(FuzzRun.seed(3));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            int n = FuzzRun.scaled(1000);
            for (int i = 0; i < n; i++) {
                byte[] base = BASES.get(i % (BASES.size() - 1));
                int dataStart = 8 + (int) ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong();
                byte[] b = base.clone();
                StringBuilder how = new StringBuilder("data bytes");
                for (int k = 1 + m.nextInt(8); k > 0 && b.length > dataStart; k--) {
                    int at = dataStart + m.nextInt(b.length - dataStart);
                    b[at] = (byte) m.nextInt(256);
                    how.append(' ').append(at);
                }
                assertNotNull(readBoth(run, how.toString(), b), how.toString());
            }
        });
        System.out.print(run.summary());
        assertEquals(run.inputs(), run.count("accepted"));
    }

    // ------------------------------------------------------------------ reading and checking

    /**
     * Reads {@code bytes} with the length known and as a stream of unknown length; both must meet
     * the contract and agree. Returns the tensors, or null when the input was refused.
     */
    private static SafeTensors.Contents readBoth(FuzzRun run, String how, byte[] bytes) {
        SafeTensors.Contents sized = run.attempt(how, bytes, bytes.length,
                () -> SafeTensors.read(new ByteArrayInputStream(bytes), bytes.length, SOURCE),
                c -> matchesReference(c, bytes), e -> checkRejection(e, bytes));
        SafeTensors.Contents streamed = run.attempt("streamed: " + how, bytes, bytes.length,
                () -> SafeTensors.read(new ByteArrayInputStream(bytes), SOURCE),
                c -> matchesReference(c, bytes), e -> checkRejection(e, bytes));
        if ((sized == null) != (streamed == null)) {
            fail("the sized and the streamed read disagree on " + how + ": sized "
                    + (sized == null ? "refused" : "accepted") + ", streamed " + (streamed == null ? "refused" : "accepted"));
        }
        return sized;
    }

    private static void checkRejection(Exception e, byte[] bytes) {
        SafeTensorsFormatException s = (SafeTensorsFormatException) e;
        assertEquals(SOURCE, s.source());
        assertTrue(s.getMessage().startsWith(SOURCE + ", "), s.getMessage());
        assertTrue(s.getMessage().contains("byte offset " + s.byteOffset() + ": "), s.getMessage());
        assertTrue(s.byteOffset() >= 0 && s.byteOffset() <= bytes.length,
                "byte offset " + s.byteOffset() + " outside a " + bytes.length + "-byte input: " + s.getMessage());
    }

    /**
     * An accepted file must hold what an independent decoding of its bytes (Jackson's tree model for
     * the header, the data sliced by the offsets) says: the same names in header order, dtypes,
     * shapes, metadata and every bit of every value, with the last tensor ending the file.
     */
    private static void matchesReference(SafeTensors.Contents c, byte[] bytes) {
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(headerLength >= 0 && 8 + headerLength <= bytes.length, "accepted a header length of " + headerLength);
        int dataStart = 8 + (int) headerLength;
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("accepted a header that is not JSON: " + e.getMessage());
        }
        assertTrue(header.isObject(), "accepted a header that is not an object");
        List<String> names = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        long end = 0;
        Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equals("__metadata__")) {
                f.getValue().fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().textValue()));
                continue;
            }
            names.add(f.getKey());
            JsonNode entry = f.getValue();
            Tensor t = c.tensors().get(f.getKey());
            assertNotNull(t, "tensor " + f.getKey() + " is missing");
            assertEquals(entry.get("dtype").textValue(), code(t), f.getKey() + ": dtype");
            JsonNode shape = entry.get("shape");
            int[] expectedShape = new int[shape.size()];
            for (int i = 0; i < expectedShape.length; i++) {
                assertTrue(shape.get(i).canConvertToInt(), "accepted dimension " + shape.get(i));
                expectedShape[i] = shape.get(i).intValue();
            }
            assertArrayEquals(expectedShape, t.shape(), f.getKey() + ": shape");
            long begin = entry.get("data_offsets").get(0).longValue();
            long stop = entry.get("data_offsets").get(1).longValue();
            assertTrue(0 <= begin && begin <= stop && dataStart + stop <= bytes.length,
                    f.getKey() + ": accepted data_offsets [" + begin + ", " + stop + "]");
            assertArrayEquals(Arrays.copyOfRange(bytes, dataStart + (int) begin, dataStart + (int) stop),
                    littleEndian(t), f.getKey() + ": values");
            end = Math.max(end, stop);
        }
        assertEquals(names, new ArrayList<>(c.tensors().keySet()), "tensor names in header order");
        assertEquals(metadata, c.metadata(), "metadata");
        assertEquals(bytes.length, dataStart + end, "the last tensor must end the file");
    }

    private static String code(Tensor t) {
        switch (t.dtype()) {
            case FLOAT32: return "F32";
            case FLOAT64: return "F64";
            case INT64: return "I64";
            default: throw new AssertionError("the reader made a " + t.dtype() + " tensor");
        }
    }

    /** The tensor's values as safetensors stores them, bit for bit. */
    private static byte[] littleEndian(Tensor t) {
        ByteBuffer b = ByteBuffer.allocate(t.numel() * t.dtype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.dtype()) {
            case FLOAT32:
                for (float v : t.toFloatArray()) {
                    b.putInt(Float.floatToRawIntBits(v));
                }
                break;
            case FLOAT64:
                for (double v : t.toDoubleArray()) {
                    b.putLong(Double.doubleToRawLongBits(v));
                }
                break;
            default:
                for (long v : t.toLongArray()) {
                    b.putLong(v);
                }
        }
        return b.array();
    }

    /** The length prefix, the header's JSON punctuation and digits, the data start and the last byte. */
    private static int[] interestingOffsets(byte[] file) {
        List<Integer> at = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
        long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int end = (int) Math.min(file.length, 8 + headerLength);
        for (int i = 8; i < end; i++) {
            byte c = file[i];
            if ("{}[]\",:".indexOf(c) >= 0 || (c >= '0' && c <= '9')) {
                at.add(i);
            }
        }
        at.add(end);
        at.add(file.length - 1);
        return at.stream().mapToInt(Integer::intValue).toArray();
    }

    // ------------------------------------------------------------------ header edits

    /** One structural edit of a file's header, re-encoded, with the data section kept. */
    private static final class HeaderEditor {
        private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
        private final ByteMutator m;
        private final ObjectNode header;
        private final byte[] data;
        private final List<String> names = new ArrayList<>();

        HeaderEditor(ByteMutator m, byte[] file) throws IOException {
            this.m = m;
            int length = (int) ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong();
            this.header = (ObjectNode) JSON.readTree(new String(file, 8, length, StandardCharsets.UTF_8));
            this.data = Arrays.copyOfRange(file, 8 + length, file.length);
            header.fieldNames().forEachRemaining(n -> {
                if (!n.equals("__metadata__")) {
                    names.add(n);
                }
            });
        }

        /** A value a number field of a hostile header might hold. */
        private JsonNode hostileNumber() {
            switch (m.nextInt(8)) {
                case 0: return NODES.numberNode(new BigInteger("18446744073709551615"));
                case 1: return NODES.numberNode(1.5);
                case 2: return NODES.numberNode(1e300);
                case 3: return NODES.textNode("2");
                case 4: return NODES.nullNode();
                case 5: return NODES.numberNode(-(long) m.nextInt(16));
                default: return NODES.numberNode(m.extreme());
            }
        }

        private ObjectNode entry(String name) {
            return (ObjectNode) header.get(name);
        }

        ByteMutator.Mutant edit() {
            String name = names.get(m.nextInt(names.size()));
            ObjectNode e = entry(name);
            String how;
            String text = null;
            switch (m.nextInt(16)) {
                case 0: {
                    String[] codes = {"F32", "F64", "I64", "F16", "BF16", "I32", "U8", "BOOL", "F8_E4M3", "f32", ""};
                    String code = codes[m.nextInt(codes.length)];
                    e.put("dtype", code);
                    how = name + ".dtype = " + code;
                    break;
                }
                case 1: {
                    ArrayNode shape = (ArrayNode) e.get("shape");
                    if (shape.isEmpty()) {
                        shape.add(hostileNumber());
                    } else {
                        shape.set(m.nextInt(shape.size()), hostileNumber());
                    }
                    how = name + ".shape = " + shape;
                    break;
                }
                case 2: {
                    ArrayNode shape = (ArrayNode) e.get("shape");
                    if (m.nextInt(2) == 0 || shape.isEmpty()) {
                        shape.add(m.nextInt(2) == 0 ? 1 : m.nextInt(5));
                    } else {
                        shape.remove(m.nextInt(shape.size()));
                    }
                    how = name + ".shape = " + shape;
                    break;
                }
                case 3: {
                    ArrayNode offsets = (ArrayNode) e.get("data_offsets");
                    int which = m.nextInt(2);
                    offsets.set(which, hostileNumber());
                    how = name + ".data_offsets = " + offsets;
                    break;
                }
                case 4: {
                    ArrayNode offsets = (ArrayNode) e.get("data_offsets");
                    long begin = offsets.get(0).longValue();
                    long end = offsets.get(1).longValue();
                    long shift = new long[] {-8, -4, -1, 1, 4, 8}[m.nextInt(6)];
                    switch (m.nextInt(4)) {
                        case 0: offsets.removeAll().add(end).add(begin); break;
                        case 1: offsets.removeAll().add(begin + shift).add(end + shift); break;
                        case 2: offsets.removeAll().add(begin).add(end + shift); break;
                        default: offsets.removeAll().add(begin).add(begin); break;
                    }
                    how = name + ".data_offsets = " + offsets;
                    break;
                }
                case 5: {
                    String other = names.get(m.nextInt(names.size()));
                    e.set("data_offsets", entry(other).get("data_offsets").deepCopy());
                    e.set("shape", entry(other).get("shape").deepCopy());
                    e.set("dtype", entry(other).get("dtype").deepCopy());
                    how = name + " takes the layout of " + other + " (overlap)";
                    break;
                }
                case 6: {
                    String[] fields = {"dtype", "shape", "data_offsets"};
                    String field = fields[m.nextInt(3)];
                    switch (m.nextInt(4)) {
                        case 0: e.remove(field); how = "remove " + name + "." + field; break;
                        case 1: e.put("extra", 1); how = "add " + name + ".extra"; break;
                        case 2: e.set(field, NODES.objectNode()); how = name + "." + field + " = {}"; break;
                        default: e.set(field, hostileNumber()); how = name + "." + field + " = " + e.get(field); break;
                    }
                    break;
                }
                case 7: {
                    JsonNode[] values = {NODES.textNode("x"), NODES.numberNode(3), NODES.arrayNode(), NODES.nullNode()};
                    header.set(name, values[m.nextInt(values.length)]);
                    how = name + " = " + header.get(name);
                    break;
                }
                case 8: {
                    JsonNode[] values = {NODES.numberNode(1), NODES.arrayNode().add("a"), NODES.nullNode(),
                        NODES.objectNode().put("nested", 1), NODES.objectNode().set("k", NODES.objectNode())};
                    JsonNode v = values[m.nextInt(values.length)];
                    if (m.nextInt(2) == 0) {
                        header.set("__metadata__", v);
                    } else {
                        header.putObject("__metadata__").set("k", v);
                    }
                    how = "__metadata__ edited to " + header.get("__metadata__");
                    break;
                }
                case 9: {
                    String other = names.get(m.nextInt(names.size()));
                    text = header.toString().replaceFirst("\"" + java.util.regex.Pattern.quote(other) + "\":",
                            java.util.regex.Matcher.quoteReplacement("\"" + name + "\":"));
                    how = "rename " + other + " to " + name + " (duplicate name)";
                    break;
                }
                case 10: {
                    int depth = new int[] {10, 200, 2_000, 50_000}[m.nextInt(4)];
                    text = "{\"deep\":" + "[".repeat(depth) + "]".repeat(depth) + "," + header.toString().substring(1);
                    how = "an array nested " + depth + " deep";
                    break;
                }
                case 11: {
                    // 20,000 entries take about a second to read twice and check on a busy machine: one case in 20
                    int count = m.nextInt(20) == 0 ? 20_000 : m.nextInt(2) == 0 ? 100 : 1_000;
                    StringBuilder b = new StringBuilder("{");
                    for (int i = 0; i < count; i++) {
                        b.append("\"z").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},");
                    }
                    text = b.append(header.toString().substring(1)).toString();
                    how = count + " extra empty tensors";
                    break;
                }
                case 12: {
                    String odd = m.nextInt(2) == 0 ? "a".repeat(200_000) : "line\nbreak\u0000\u001b[31m";
                    header.set(odd, header.remove(name));
                    e.put("dtype", "F16");
                    how = "a tensor with an odd name (" + odd.length() + " chars) and a dtype Sparkgrad refuses";
                    break;
                }
                case 13: {
                    List<String> order = new ArrayList<>(names);
                    java.util.Collections.reverse(order);
                    ObjectNode reversed = NODES.objectNode();
                    if (header.has("__metadata__")) {
                        reversed.set("__metadata__", header.get("__metadata__"));
                    }
                    order.forEach(n -> reversed.set(n, header.get(n)));
                    text = reversed.toString();
                    how = "entries listed in reverse order";
                    break;
                }
                case 14: {
                    ArrayNode shape = (ArrayNode) e.get("shape");
                    shape.removeAll();
                    int dims = new int[] {64, 10_000}[m.nextInt(2)];
                    for (int i = 0; i < dims; i++) {
                        shape.add(i == 0 ? 0 : 65_536);
                    }
                    e.set("data_offsets", NODES.arrayNode().add(0).add(0));
                    how = name + ".shape = [0, 65536 x " + (dims - 1) + "] at [0, 0]";
                    break;
                }
                default: {
                    ArrayNode offsets = (ArrayNode) e.get("data_offsets");
                    offsets.add(offsets.get(1).longValue());
                    how = name + ".data_offsets with three numbers";
                    break;
                }
            }
            return assemble(text == null ? header.toString() : text, how);
        }

        /** Length prefix, header (padded or not) and the original data; sometimes a lying length. */
        private ByteMutator.Mutant assemble(String json, String how) {
            byte[] unpadded = json.getBytes(StandardCharsets.UTF_8);
            byte[] h = unpadded;
            if (m.nextInt(2) == 0) {
                h = Arrays.copyOf(unpadded, (unpadded.length + 7) / 8 * 8);
                Arrays.fill(h, unpadded.length, h.length, (byte) ' ');
            }
            long prefix = h.length;
            if (m.nextInt(10) == 0) {
                prefix = m.extreme();
                how += "; header length " + prefix;
            }
            ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(prefix).put(h).put(data);
            return new ByteMutator.Mutant(how, b.array());
        }
    }
}
