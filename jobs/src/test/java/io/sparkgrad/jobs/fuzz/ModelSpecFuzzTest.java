package io.sparkgrad.jobs.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.jobs.model.ModelSpec;
import io.sparkgrad.nn.Module;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the JSON model spec (issue 8, "Bad and hostile input"): random edits of the
 * JSON text, values set to extreme or mistyped ones, layers repeated past the limits, deep nesting.
 * Each spec must be refused with an {@link IllegalArgumentException} whose one-line message starts
 * with the spec's name, or be accepted within every limit, with a canonical form that parses to
 * itself and (when small enough to build here) a network whose parameter count and output width
 * are what the spec says.
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class ModelSpecFuzzTest {
    private static final Duration FAMILY_LIMIT = Duration.ofMinutes(3);
    private static final String SOURCE = "fuzz-spec.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Specs at most this big are built and run once, to check what parse inferred. */
    private static final long BUILD_PARAMETERS = 300_000;
    private static final long BUILD_ACTIVATION = 100_000;

    static final List<String> BASES = List.of(
            "{\"input\": [1, 28, 28], \"layers\": ["
                    + "{\"type\": \"conv2d\", \"out_channels\": 4, \"kernel_size\": 3, \"padding\": 1},"
                    + "{\"type\": \"relu\"}, {\"type\": \"maxpool2d\", \"kernel_size\": 2},"
                    + "{\"type\": \"conv2d\", \"out_channels\": 8, \"kernel_size\": 5, \"stride\": 2},"
                    + "{\"type\": \"tanh\"}, {\"type\": \"avgpool2d\", \"kernel_size\": 2, \"stride\": 1, \"padding\": 1},"
                    + "{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out_features\": 32}, {\"type\": \"gelu\"},"
                    + "{\"type\": \"dropout\", \"p\": 0.25}, {\"type\": \"linear\", \"out_features\": 10, \"bias\": false}]}",
            "{\"input\": [64], \"layers\": [{\"type\": \"linear\", \"out_features\": 128}, {\"type\": \"relu\"},"
                    + "{\"type\": \"linear\", \"out_features\": 64}, {\"type\": \"sigmoid\"},"
                    + "{\"type\": \"linear\", \"out_features\": 3}]}",
            "{\"input\": [12, 12], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 2, \"kernel_size\": 3},"
                    + "{\"type\": \"flatten\"}, {\"type\": \"dropout\"}, {\"type\": \"linear\", \"out_features\": 1}]}");

    @Test
    void textEdits() {
        FuzzTally run = new FuzzTally("model-spec-text", FuzzTally.seed(20), IllegalArgumentException.class);
        TextMutator m = new TextMutator(FuzzTally.seed(20));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            String first = BASES.get(0);
            for (int length = 0; length < first.length(); length++) {
                parse(run, "truncate to " + length, first.substring(0, length));
            }
            for (int i = 0; i < FuzzTally.scaled(6000); i++) {
                TextMutator.Mutant mutant = m.mutate(BASES.get(i % BASES.size()));
                parse(run, mutant.how(), mutant.text());
            }
        });
        System.out.print(run.summary());
        assertTrue(run.count("accepted") > 0, run.summary());
    }

    @Test
    void structureEdits() {
        FuzzTally run = new FuzzTally("model-spec-structure", FuzzTally.seed(21), IllegalArgumentException.class);
        TextMutator m = new TextMutator(FuzzTally.seed(21));
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            for (int i = 0; i < FuzzTally.scaled(6000); i++) {
                ObjectNode spec = (ObjectNode) JSON.readTree(BASES.get(i % BASES.size()));
                String how = edit(m, spec);
                String text = spec.toString();
                if (m.nextInt(8) == 0) {
                    int depth = new int[] {4, 9, 17, 100, 1_000, 20_000}[m.nextInt(6)];
                    text = nest(text, depth, m.nextInt(2) == 0);
                    how += "; nested " + depth + " deep";
                }
                parse(run, how, text);
            }
            parse(run, "too long", " ".repeat(ModelSpec.MAX_BYTES) + BASES.get(1));
        });
        System.out.print(run.summary());
        assertTrue(run.count("accepted") > 0, run.summary());
    }

    private static void parse(FuzzTally run, String how, String text) {
        run.attempt(how, () -> ModelSpec.parse(text, SOURCE), ModelSpecFuzzTest::checkAccepted,
                e -> assertTrue(e.getMessage().startsWith(SOURCE + ": "), e.getMessage()));
    }

    /** An accepted spec keeps every limit, parses back to itself, and builds the network it describes. */
    private static void checkAccepted(ModelSpec s) {
        assertTrue(s.layers().size() >= 1 && s.layers().size() <= ModelSpec.MAX_LAYERS, s.toString());
        assertTrue(s.parameters() >= 0 && s.parameters() <= ModelSpec.MAX_PARAMETERS, s.toString());
        long widest = s.inputSize();
        for (ModelSpec.Layer l : s.layers()) {
            long values = 1;
            for (int d : l.outShape()) {
                assertTrue(d >= 1, s.toString());
                values *= d;
            }
            assertTrue(values <= ModelSpec.MAX_ACTIVATION, s.toString());
            widest = Math.max(widest, values);
        }
        ModelSpec again = ModelSpec.parse(s.toJson(), "canonical");
        assertEquals(s.toJson(), again.toJson());
        assertEquals(s.parameters(), again.parameters());
        if (s.parameters() <= BUILD_PARAMETERS && widest <= BUILD_ACTIVATION) {
            Module net = s.build();
            assertEquals(s.parameters(), net.parameters().stream().mapToLong(p -> p.numel()).sum(), s.toString());
            try (GradMode.Guard g = GradMode.noGrad()) {
                Tensor out = net.eval().apply(Tensor.zeros(2, s.inputSize()));
                assertArrayEquals(new int[] {2, s.outputSize()}, out.shape(), s.toString());
            }
        }
    }

    /** {@code text} with its first value (or the whole document) wrapped in {@code depth} arrays or objects. */
    private static String nest(String text, int depth, boolean arrays) {
        String open = arrays ? "[" : "{\"a\":";
        String close = arrays ? "]" : "}";
        int at = text.indexOf(':') + 1;
        return text.substring(0, at) + open.repeat(depth) + "1" + close.repeat(depth) + "," + "\"x\":"
                + text.substring(at);
    }

    /** One edit of the spec's tree; returns what it did. */
    private static String edit(TextMutator m, ObjectNode spec) {
        ArrayNode layers = (ArrayNode) spec.get("layers");
        ObjectNode layer = (ObjectNode) layers.get(m.nextInt(layers.size()));
        List<String> fields = new ArrayList<>();
        layer.fieldNames().forEachRemaining(fields::add);
        String field = fields.get(m.nextInt(fields.size()));
        switch (m.nextInt(10)) {
            case 0:
            case 1: {
                JsonNode v = hostile(m);
                layer.set(field, v);
                return "layer " + field + " = " + v;
            }
            case 2: {
                ArrayNode input = (ArrayNode) spec.get("input");
                JsonNode v = hostile(m);
                input.set(m.nextInt(input.size()), v);
                if (m.nextInt(3) == 0) {
                    input.add(v);
                }
                return "input = " + input;
            }
            case 3: {
                String[] types = {"linear", "conv2d", "maxpool2d", "avgpool2d", "flatten", "relu", "tanh", "sigmoid",
                    "gelu", "dropout", "LINEAR", "lstm", ""};
                String t = types[m.nextInt(types.length)];
                layer.put("type", t);
                return "type = " + t;
            }
            case 4: {
                int copies = new int[] {2, 8, ModelSpec.MAX_LAYERS, 200}[m.nextInt(4)];
                int at = m.nextInt(layers.size());
                for (int i = 0; i < copies; i++) {
                    layers.insert(at, layers.get(at).deepCopy());
                }
                return "layer " + at + " repeated " + copies + " times";
            }
            case 5: {
                layers.remove(m.nextInt(layers.size()));
                return "a layer removed";
            }
            case 6: {
                if (m.nextInt(2) == 0) {
                    layer.remove(field);
                    return "removed " + field;
                }
                layer.put(m.nextInt(2) == 0 ? "units" : field + "_", 3);
                return "unknown field";
            }
            case 7: {
                JsonNode[] whole = {NODES.arrayNode(), NODES.objectNode(), NODES.textNode("relu"), NODES.nullNode(),
                    NODES.numberNode(3)};
                String key = m.nextInt(2) == 0 ? "layers" : "input";
                JsonNode v = whole[m.nextInt(whole.length)];
                spec.set(key, v);
                return key + " = " + v;
            }
            case 8: {
                // as wide as the limits allow, to reach the parameter and activation limits
                layers.removeAll();
                layers.addObject().put("type", "flatten");
                int widths = 1 + m.nextInt(4);
                for (int i = 0; i < widths; i++) {
                    layers.addObject().put("type", "linear").put("out_features", ModelSpec.MAX_FEATURES);
                }
                spec.set("input", NODES.arrayNode().add(ModelSpec.MAX_INPUT_DIM).add(m.nextInt(2) == 0 ? 1 : 1024));
                return widths + " linear layers of " + ModelSpec.MAX_FEATURES;
            }
            default: {
                String odd = m.nextInt(2) == 0 ? "x".repeat(30_000) : "line\nbreak\u001b[2J";
                if (m.nextInt(2) == 0) {
                    layer.put("type", odd);
                } else {
                    layer.put(odd, 1);
                }
                return "an odd name of " + odd.length() + " characters";
            }
        }
    }

    private static JsonNode hostile(TextMutator m) {
        switch (m.nextInt(12)) {
            case 0: return NODES.numberNode(-1);
            case 1: return NODES.numberNode(0);
            case 2: return NODES.numberNode(Integer.MAX_VALUE);
            case 3: return NODES.numberNode(1L << 31);
            case 4: return NODES.numberNode(Long.MAX_VALUE);
            case 5: return NODES.numberNode(new BigInteger("123456789012345678901234567890"));
            case 6: return NODES.numberNode(1.5);
            case 7: return NODES.numberNode(1e308);
            case 8: return NODES.textNode(m.token());
            case 9: return m.nextInt(2) == 0 ? NODES.nullNode() : NODES.booleanNode(true);
            case 10: return NODES.arrayNode().add(3);
            default: return NODES.numberNode(1 + m.nextInt(20));
        }
    }
}
