package io.sparkgrad.jobs.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sparkgrad.Generator;
import io.sparkgrad.nn.AvgPool2d;
import io.sparkgrad.nn.Conv2d;
import io.sparkgrad.nn.Dropout;
import io.sparkgrad.nn.Flatten;
import io.sparkgrad.nn.GELU;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.MaxPool2d;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.nn.Sigmoid;
import io.sparkgrad.nn.Tanh;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A small JSON description of a network, for conv nets the {@code --layers} option cannot say: the
 * shape of one example and a list of layers with PyTorch's names and arguments.
 *
 * <pre>{@code
 * {
 *   "input": [1, 28, 28],
 *   "layers": [
 *     {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "padding": 1},
 *     {"type": "relu"},
 *     {"type": "maxpool2d", "kernel_size": 2},
 *     {"type": "flatten"},
 *     {"type": "linear", "out_features": 64},
 *     {"type": "relu"},
 *     {"type": "dropout", "p": 0.25},
 *     {"type": "linear", "out_features": 10}
 *   ]
 * }
 * }</pre>
 *
 * Layer types: {@code linear} (out_features, bias), {@code conv2d} (out_channels, kernel_size,
 * stride, padding, bias), {@code maxpool2d} and {@code avgpool2d} (kernel_size, stride = kernel_size,
 * padding), {@code flatten}, {@code relu}, {@code tanh}, {@code sigmoid}, {@code gelu},
 * {@code dropout} (p). Input widths are inferred. The network takes flat feature vectors and first
 * reshapes them to {@code input} (PyTorch's {@code nn.Unflatten(1, input)}), so its state dict
 * names are those of {@code nn.Sequential(nn.Unflatten(…), *layers)}: {@code "1.weight"}, …
 *
 * <p>Parsing checks every field, infers every layer's output shape and enforces the limits below
 * (sizes, parameters, values per example after each layer and in each convolution's workspace);
 * an error names the layer ({@code layers[3] (conv2d)}) and what was expected.
 */
public final class ModelSpec {
    /** Largest spec file accepted, in bytes. */
    public static final int MAX_BYTES = 64 * 1024;
    /** Most layers (activations, pooling and dropout included). */
    public static final int MAX_LAYERS = 32;
    /** Largest {@code out_features} of a linear layer. */
    public static final int MAX_FEATURES = 16_384;
    /** Largest {@code out_channels} of a convolution. */
    public static final int MAX_CHANNELS = 1_024;
    /** Largest kernel side of a convolution or pooling. */
    public static final int MAX_KERNEL = 15;
    /** Largest input dimension. */
    public static final int MAX_INPUT_DIM = 4_096;
    /** Most values one example may have after any layer (memory per example and batch row). */
    public static final long MAX_ACTIVATION = 1L << 22;
    /**
     * Most values of one example's im2col workspace in a convolution or average pooling: the
     * engine copies every {@code kernel × kernel} window of the layer's input into a column, so a
     * layer holds {@code in_channels · kernel² · H_out · W_out} values per example (a batch's in one
     * array) while its output may be small. 2<sup>24</sup> values (64 MiB per example) is four
     * times {@link #MAX_ACTIVATION}.
     */
    public static final long MAX_WORKSPACE = 1L << 24;
    /** Most trainable parameters. */
    public static final long MAX_PARAMETERS = 50_000_000L;
    /**
     * Deepest nesting of JSON arrays and objects: a spec needs 3 (the document, "layers", a layer).
     * Checked by the parser as it reads, so a hostile file cannot make it build a deep tree.
     */
    public static final int MAX_DEPTH = 8;
    /** Longest piece of the file's own text that an error message quotes. */
    private static final int MAX_QUOTED = 60;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build()).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Map<String, Set<String>> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("linear", Set.of("out_features", "bias"));
        FIELDS.put("conv2d", Set.of("out_channels", "kernel_size", "stride", "padding", "bias"));
        FIELDS.put("maxpool2d", Set.of("kernel_size", "stride", "padding"));
        FIELDS.put("avgpool2d", Set.of("kernel_size", "stride", "padding"));
        FIELDS.put("flatten", Set.of());
        FIELDS.put("relu", Set.of());
        FIELDS.put("tanh", Set.of());
        FIELDS.put("sigmoid", Set.of());
        FIELDS.put("gelu", Set.of());
        FIELDS.put("dropout", Set.of("p"));
    }

    /** One layer with its arguments resolved (defaults filled in) and its output shape per example. */
    public record Layer(String type, Map<String, Object> args, int[] outShape) {
        int intArg(String name) {
            return (Integer) args.get(name);
        }

        boolean boolArg(String name) {
            return (Boolean) args.get(name);
        }
    }

    private final int[] input;
    private final List<Layer> layers;
    private final long parameters;
    private final String json;

    private ModelSpec(int[] input, List<Layer> layers, long parameters, String json) {
        this.input = input;
        this.layers = List.copyOf(layers);
        this.parameters = parameters;
        this.json = json;
    }

    /** The shape of one example, as the layers see it. */
    public int[] input() {
        return input.clone();
    }

    /** Values per example: what the flat feature vector must hold. */
    public int inputSize() {
        return (int) product(input);
    }

    public List<Layer> layers() {
        return layers;
    }

    /** The network's output width (the last layer's shape is {@code [width]}). */
    public int outputSize() {
        return layers.get(layers.size() - 1).outShape()[0];
    }

    /** Trainable parameters in all. */
    public long parameters() {
        return parameters;
    }

    /** The spec as canonical JSON, every default written out: what is saved with a model. */
    public String toJson() {
        return json;
    }

    /**
     * Parses and checks a spec.
     *
     * @param source names the spec in errors (a file name)
     * @throws IllegalArgumentException with a one-line message naming the field or layer
     */
    public static ModelSpec parse(String text, String source) {
        if (text.length() > MAX_BYTES) {
            throw new IllegalArgumentException(source + ": the model spec has " + text.length()
                    + " characters; at most " + MAX_BYTES + " are accepted");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (StreamConstraintsException e) {
            if (String.valueOf(e.getOriginalMessage()).contains("nesting depth")) {
                throw new IllegalArgumentException(source + ": JSON nested deeper than " + MAX_DEPTH + " levels"
                        + where(e) + " (ModelSpec.MAX_DEPTH; a spec needs 3)");
            }
            throw new IllegalArgumentException(source + ": the JSON" + where(e) + " exceeds a parser limit: "
                    + firstLine(e));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON" + where(e) + ": " + firstLine(e));
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": a model spec is a JSON object {\"input\": [...], \"layers\": [...]}");
        }
        checkFields(root, Set.of("input", "layers"), source);
        JsonNode in = root.get("input");
        if (in == null || !in.isArray() || in.size() < 1 || in.size() > 3) {
            throw new IllegalArgumentException(source + ": \"input\" must be the shape of one example: [features], "
                    + "[height, width] or [channels, height, width]");
        }
        int[] input = new int[in.size()];
        for (int i = 0; i < input.length; i++) {
            input[i] = intValue(in.get(i), 1, MAX_INPUT_DIM, source + ": input[" + i + "]");
        }
        if (input.length == 2) {
            input = new int[] {1, input[0], input[1]};
        }
        if (product(input) > MAX_ACTIVATION) {
            throw new IllegalArgumentException(source + ": input " + Arrays.toString(input) + " has "
                    + product(input) + " values; at most " + MAX_ACTIVATION);
        }
        JsonNode ls = root.get("layers");
        if (ls == null || !ls.isArray() || ls.isEmpty()) {
            throw new IllegalArgumentException(source + ": \"layers\" must be a non-empty array of layers");
        }
        if (ls.size() > MAX_LAYERS) {
            throw new IllegalArgumentException(source + ": " + ls.size() + " layers; at most " + MAX_LAYERS
                    + " are accepted");
        }
        List<Layer> layers = new ArrayList<>();
        int[] shape = input;
        long params = 0;
        ArrayNode canonical = JSON.createArrayNode();
        for (int i = 0; i < ls.size(); i++) {
            JsonNode l = ls.get(i);
            String where = source + ": layers[" + i + "]";
            if (!l.isObject() || l.get("type") == null || !l.get("type").isTextual()) {
                throw new IllegalArgumentException(where + " must be an object with a \"type\": one of " + FIELDS.keySet());
            }
            String type = l.get("type").asText().toLowerCase(Locale.ROOT);
            if (!FIELDS.containsKey(type)) {
                throw new IllegalArgumentException(where + ": unknown type " + shown(l.get("type")) + "; expected one of "
                        + FIELDS.keySet());
            }
            where += " (" + type + ")";
            Set<String> allowed = new java.util.HashSet<>(FIELDS.get(type));
            allowed.add("type");
            checkFields(l, allowed, where);
            Map<String, Object> args = new LinkedHashMap<>();
            int[] out;
            switch (type) {
                case "linear": {
                    if (shape.length != 1) {
                        throw new IllegalArgumentException(where + ": gets shape " + Arrays.toString(shape)
                                + "; put {\"type\": \"flatten\"} before it");
                    }
                    int o = intValue(l.get("out_features"), 1, MAX_FEATURES, where + ": out_features");
                    boolean bias = boolValue(l.get("bias"), true, where + ": bias");
                    args.put("out_features", o);
                    args.put("bias", bias);
                    params += (long) shape[0] * o + (bias ? o : 0);
                    out = new int[] {o};
                    break;
                }
                case "conv2d": {
                    requireImage(shape, where);
                    int oc = intValue(l.get("out_channels"), 1, MAX_CHANNELS, where + ": out_channels");
                    int k = intValue(l.get("kernel_size"), 1, MAX_KERNEL, where + ": kernel_size");
                    int s = intValue(orDefault(l.get("stride"), 1), 1, k, where + ": stride");
                    int p = intValue(orDefault(l.get("padding"), 0), 0, k - 1, where + ": padding");
                    boolean bias = boolValue(l.get("bias"), true, where + ": bias");
                    args.put("out_channels", oc);
                    args.put("kernel_size", k);
                    args.put("stride", s);
                    args.put("padding", p);
                    args.put("bias", bias);
                    out = new int[] {oc, outSide(shape[1], k, s, p, where), outSide(shape[2], k, s, p, where)};
                    params += (long) oc * shape[0] * k * k + (bias ? oc : 0);
                    break;
                }
                case "maxpool2d":
                case "avgpool2d": {
                    requireImage(shape, where);
                    int k = intValue(l.get("kernel_size"), 1, MAX_KERNEL, where + ": kernel_size");
                    int s = intValue(orDefault(l.get("stride"), k), 1, k, where + ": stride");
                    int p = intValue(orDefault(l.get("padding"), 0), 0, k / 2, where + ": padding");
                    args.put("kernel_size", k);
                    args.put("stride", s);
                    args.put("padding", p);
                    out = new int[] {shape[0], outSide(shape[1], k, s, p, where), outSide(shape[2], k, s, p, where)};
                    break;
                }
                case "flatten":
                    out = new int[] {(int) product(shape)};
                    break;
                case "dropout": {
                    JsonNode pn = l.get("p");
                    double p = pn == null ? 0.5 : pn.isNumber() ? pn.asDouble() : Double.NaN;
                    if (!(p >= 0 && p < 1)) {
                        throw new IllegalArgumentException(where + ": p must be a number in [0, 1), got " + shown(pn));
                    }
                    args.put("p", p);
                    out = shape;
                    break;
                }
                default:
                    out = shape;
            }
            long workspace = workspace(type, shape, args, out);
            if (workspace > MAX_WORKSPACE) {
                throw new IllegalArgumentException(where + ": its im2col workspace (" + shape[0] + " input channels × "
                        + "kernel " + args.get("kernel_size") + "² × " + out[1] + "·" + out[2] + " output positions) is "
                        + workspace + " values per example; at most " + MAX_WORKSPACE + " (ModelSpec.MAX_WORKSPACE): use "
                        + "fewer input channels, a smaller kernel or a larger stride");
            }
            if (product(out) > MAX_ACTIVATION) {
                throw new IllegalArgumentException(where + ": its output " + Arrays.toString(out) + " has "
                        + product(out) + " values per example; at most " + MAX_ACTIVATION);
            }
            if (params > MAX_PARAMETERS) {
                throw new IllegalArgumentException(where + ": the network reaches " + params
                        + " parameters here; at most " + MAX_PARAMETERS + " are accepted");
            }
            ObjectNode c = canonical.addObject();
            c.put("type", type);
            args.forEach((k, v) -> c.putPOJO(k, v));
            layers.add(new Layer(type, args, out));
            shape = out;
        }
        if (shape.length != 1) {
            throw new IllegalArgumentException(source + ": the last layer's output has shape " + Arrays.toString(shape)
                    + "; end with flatten and linear so the network returns one row of outputs per example");
        }
        ObjectNode doc = JSON.createObjectNode();
        ArrayNode inputNode = doc.putArray("input");
        for (int d : input) {
            inputNode.add(d);
        }
        doc.set("layers", canonical);
        return new ModelSpec(input, layers, params, doc.toString());
    }

    /** " at line L, column C" where Jackson knows it (it does not for every limit it enforces). */
    private static String where(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        return at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    /** Jackson's own words, first line only and cut short: they quote the file, which may hold anything. */
    private static String firstLine(JsonProcessingException e) {
        String m = e.getOriginalMessage();
        return m == null ? "" : cut(m.split("[\r\n]", 2)[0]);
    }

    /**
     * A value from the file as JSON (so control characters are escaped and strings quoted), cut to
     * {@value #MAX_QUOTED} characters: an error about a megabyte-long value stays one readable line.
     */
    private static String shown(JsonNode n) {
        return n == null ? "nothing" : cut(n.toString());
    }

    private static String cut(String s) {
        return s.length() <= MAX_QUOTED ? s : s.substring(0, MAX_QUOTED) + "… (" + s.length() + " characters)";
    }

    private static JsonNode orDefault(JsonNode n, int value) {
        return n == null ? com.fasterxml.jackson.databind.node.IntNode.valueOf(value) : n;
    }

    private static void checkFields(JsonNode node, Set<String> allowed, String where) {
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String n = names.next();
            if (!allowed.contains(n)) {
                throw new IllegalArgumentException(where + ": unknown field " + shown(TextNode.valueOf(n)) + "; expected "
                        + new java.util.TreeSet<>(allowed));
            }
        }
    }

    private static int intValue(JsonNode n, int min, int max, String where) {
        if (n == null) {
            throw new IllegalArgumentException(where + " is required (an integer in [" + min + ", " + max + "])");
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min || n.asInt() > max) {
            throw new IllegalArgumentException(where + ": expected an integer in [" + min + ", " + max + "], got " + shown(n));
        }
        return n.asInt();
    }

    private static boolean boolValue(JsonNode n, boolean dflt, String where) {
        if (n == null) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw new IllegalArgumentException(where + ": expected true or false, got " + shown(n));
        }
        return n.asBoolean();
    }

    private static void requireImage(int[] shape, String where) {
        if (shape.length != 3) {
            throw new IllegalArgumentException(where + ": needs [channels, height, width] input, gets "
                    + Arrays.toString(shape) + (shape.length == 1 ? " (give \"input\" as [channels, height, width])" : ""));
        }
    }

    private static int outSide(int in, int k, int s, int p, String where) {
        int out = (in + 2 * p - k) / s + 1;
        if (in + 2 * p < k || out < 1) {
            throw new IllegalArgumentException(where + ": a side of " + in + " (padding " + p + ") is smaller than "
                    + "kernel_size " + k);
        }
        return out;
    }

    /**
     * Values per example of the im2col columns a layer builds ({@code F.conv2d} and
     * {@code F.avgPool2d} unfold their input): {@code in_channels · kernel² · H_out · W_out}, 0 for
     * other layers.
     */
    private static long workspace(String type, int[] in, Map<String, Object> args, int[] out) {
        if (!type.equals("conv2d") && !type.equals("avgpool2d")) {
            return 0;
        }
        long k = (Integer) args.get("kernel_size");
        return in[0] * k * k * out[1] * out[2];
    }

    private static long product(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** A new network as the spec says: {@code Unflatten(input)} (when the input is an image), then the layers. */
    public Module build() {
        Sequential net = new Sequential();
        int[] shape = input;
        if (input.length > 1) {
            net.add(new Unflatten(input));
        }
        for (Layer l : layers) {
            switch (l.type()) {
                case "linear":
                    net.add(new Linear(shape[0], l.intArg("out_features"), l.boolArg("bias")));
                    break;
                case "conv2d": {
                    int k = l.intArg("kernel_size");
                    int s = l.intArg("stride");
                    int p = l.intArg("padding");
                    net.add(new Conv2d(shape[0], l.intArg("out_channels"), new int[] {k, k}, new int[] {s, s},
                            new int[] {p, p}, l.boolArg("bias"), Generator.defaultGenerator()));
                    break;
                }
                case "maxpool2d":
                    net.add(new MaxPool2d(l.intArg("kernel_size"), l.intArg("stride"), l.intArg("padding")));
                    break;
                case "avgpool2d":
                    net.add(new AvgPool2d(l.intArg("kernel_size"), l.intArg("stride"), l.intArg("padding")));
                    break;
                case "flatten":
                    net.add(new Flatten());
                    break;
                case "relu":
                    net.add(new ReLU());
                    break;
                case "tanh":
                    net.add(new Tanh());
                    break;
                case "sigmoid":
                    net.add(new Sigmoid());
                    break;
                case "gelu":
                    net.add(new GELU());
                    break;
                default:
                    net.add(new Dropout((Double) l.args().get("p")));
            }
            shape = l.outShape();
        }
        return net;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ModelSpec(input=").append(Arrays.toString(input));
        for (Layer l : layers) {
            b.append(", ").append(l.type()).append(l.args().isEmpty() ? "" : l.args().toString())
                    .append("->").append(Arrays.toString(l.outShape()));
        }
        return b.append(", parameters=").append(parameters).append(')').toString();
    }
}
