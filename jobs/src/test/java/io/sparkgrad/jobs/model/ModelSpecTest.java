package io.sparkgrad.jobs.model;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JSON network spec: shapes and parameter counts as PyTorch computes them, the limits, and the error messages. */
class ModelSpecTest {
    static final String LENET = "{\"input\": [1, 28, 28], \"layers\": ["
            + "{\"type\": \"conv2d\", \"out_channels\": 8, \"kernel_size\": 5, \"padding\": 2},"
            + "{\"type\": \"relu\"}, {\"type\": \"maxpool2d\", \"kernel_size\": 2},"
            + "{\"type\": \"conv2d\", \"out_channels\": 16, \"kernel_size\": 5},"
            + "{\"type\": \"tanh\"}, {\"type\": \"avgpool2d\", \"kernel_size\": 2, \"stride\": 2},"
            + "{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out_features\": 32}, {\"type\": \"gelu\"},"
            + "{\"type\": \"dropout\", \"p\": 0.1}, {\"type\": \"linear\", \"out_features\": 10, \"bias\": false}]}";

    @Test
    void shapesAndParametersAreInferredLayerByLayer() {
        ModelSpec s = ModelSpec.parse(LENET, "lenet.json");
        assertEquals(784, s.inputSize());
        assertEquals(10, s.outputSize());
        List<int[]> shapes = s.layers().stream().map(ModelSpec.Layer::outShape).toList();
        assertArrayEquals(new int[] {8, 28, 28}, shapes.get(0));
        assertArrayEquals(new int[] {8, 14, 14}, shapes.get(2));
        assertArrayEquals(new int[] {16, 10, 10}, shapes.get(3));
        assertArrayEquals(new int[] {16, 5, 5}, shapes.get(5));
        assertArrayEquals(new int[] {400}, shapes.get(6));
        long params = (8 * 1 * 25 + 8) + (16 * 8 * 25 + 16) + (400 * 32 + 32) + 32 * 10;
        assertEquals(params, s.parameters());
    }

    @Test
    void theBuiltNetworkTakesFlatRowsAndHasPyTorchsNames() {
        Module net = ModelSpec.parse(LENET, "lenet.json").build();
        Tensor out;
        try (GradMode.Guard g = GradMode.noGrad()) {
            out = net.eval().apply(Tensor.zeros(3, 784));
        }
        assertArrayEquals(new int[] {3, 10}, out.shape());
        assertEquals(List.of("1.weight", "1.bias", "4.weight", "4.bias", "8.weight", "8.bias", "11.weight"),
                List.copyOf(net.stateDict().keySet()));
        long n = net.parameters().stream().mapToLong(p -> p.numel()).sum();
        assertEquals(ModelSpec.parse(LENET, "x").parameters(), n);
    }

    @Test
    void canonicalJsonRoundTripsAndTheFactorySerializes() throws Exception {
        ModelSpec s = ModelSpec.parse(LENET, "lenet.json");
        ModelSpec again = ModelSpec.parse(s.toJson(), "again");
        assertEquals(s.toJson(), again.toJson());
        assertTrue(s.toJson().contains("\"stride\":1"), s.toJson());
        SpecNetwork f = new SpecNetwork(s);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
            o.writeObject(f);
        }
        SpecNetwork back;
        try (ObjectInputStream i = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (SpecNetwork) i.readObject();
        }
        assertEquals(f.json(), back.json());
        assertEquals(f.get().stateDict().keySet(), back.get().stateDict().keySet());
        assertEquals(s.toJson(), SpecNetwork.loading(s.toJson(), SpecNetwork::new).json());
        IllegalStateException e = assertThrows(IllegalStateException.class, SpecNetwork::new);
        assertTrue(e.getMessage().contains("ModelDir.load"), e.getMessage());
    }

    private static String error(String json) {
        return assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse(json, "s.json")).getMessage();
    }

    private static String mlp(String... layers) {
        return "{\"input\": [16], \"layers\": [" + String.join(",", layers) + "]}";
    }

    @Test
    void limitsOnDepthAndSizes() {
        String relu = "{\"type\": \"relu\"}";
        String[] many = new String[ModelSpec.MAX_LAYERS + 1];
        java.util.Arrays.fill(many, relu);
        many[many.length - 1] = "{\"type\": \"linear\", \"out_features\": 2}";
        assertEquals("s.json: 33 layers; at most 32 are accepted", error(mlp(many)));
        assertEquals("s.json: layers[0] (linear): out_features: expected an integer in [1, 16384], got 20000",
                error(mlp("{\"type\": \"linear\", \"out_features\": 20000}")));
        assertTrue(error(mlp("{\"type\": \"linear\", \"out_features\": 16384}", "{\"type\": \"linear\", \"out_features\": 4000}"))
                .startsWith("s.json: layers[1] (linear): the network reaches 65818528 parameters here; at most 50000000"));
        assertEquals("s.json: layers[0] (conv2d): kernel_size: expected an integer in [1, 15], got 16",
                error("{\"input\": [1, 32, 32], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 2, \"kernel_size\": 16}]}"));
        assertEquals("s.json: layers[0] (conv2d): out_channels: expected an integer in [1, 1024], got 2048",
                error("{\"input\": [1, 32, 32], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 2048, \"kernel_size\": 3}]}"));
        assertTrue(error("{\"input\": [3, 512, 512], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 64, "
                + "\"kernel_size\": 3, \"padding\": 1}]}").startsWith("s.json: layers[0] (conv2d): its output [64, 512, 512]"));
        assertEquals("s.json: input[0]: expected an integer in [1, 4096], got 5000",
                error("{\"input\": [5000], \"layers\": [{\"type\": \"linear\", \"out_features\": 2}]}"));
        assertTrue(error(" ".repeat(ModelSpec.MAX_BYTES + 1)).contains("at most 65536"));
    }

    /**
     * A spec inside every other limit (493,195 parameters, every output under MAX_ACTIVATION) whose
     * second convolution would copy 1024 × 15² × 56·56 values per example into its im2col columns:
     * about 2.7 GiB for one example.
     */
    @Test
    void aConvolutionsWorkspaceIsLimitedPerExample() {
        String spec = "{\"input\":[1,28,28],\"layers\":["
                + "{\"type\":\"conv2d\",\"out_channels\":1024,\"kernel_size\":15,\"padding\":14},"
                + "{\"type\":\"conv2d\",\"out_channels\":1,\"kernel_size\":15,\"padding\":14},"
                + "{\"type\":\"flatten\"},{\"type\":\"linear\",\"out_features\":10}]}";
        assertEquals("s.json: layers[1] (conv2d): its im2col workspace (1024 input channels × kernel 15² × 56·56 output "
                + "positions) is 722534400 values per example; at most 16777216 (ModelSpec.MAX_WORKSPACE): use fewer input "
                + "channels, a smaller kernel or a larger stride", error(spec));
        assertTrue(error("{\"input\": [64, 64, 64], \"layers\": [{\"type\": \"avgpool2d\", \"kernel_size\": 15, "
                + "\"stride\": 1}]}").startsWith("s.json: layers[0] (avgpool2d): its im2col workspace (64 input channels"));
        // At the limit: 16 channels × 4² × 256·256 = 2^24 values per example; one channel more is refused.
        String edge = "{\"input\": [%d, 259, 259], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 1, "
                + "\"kernel_size\": 4}, {\"type\": \"flatten\"}, {\"type\": \"linear\", \"out_features\": 2}]}";
        assertEquals(131_331, ModelSpec.parse(String.format(edge, 16), "s.json").parameters());
        assertTrue(error(String.format(edge, 17)).contains("is 17825792 values per example; at most 16777216"));
    }

    @Test
    void mistakesAreNamedWithTheLayerAndTheField() {
        assertEquals("s.json: layers[0] (linear): gets shape [4, 2, 2]; put {\"type\": \"flatten\"} before it",
                error("{\"input\": [4, 2, 2], \"layers\": [{\"type\": \"linear\", \"out_features\": 2}]}"));
        assertEquals("s.json: layers[0] (conv2d): needs [channels, height, width] input, gets [16] (give \"input\" as "
                + "[channels, height, width])", error(mlp("{\"type\": \"conv2d\", \"out_channels\": 2, \"kernel_size\": 3}")));
        assertEquals("s.json: layers[0]: unknown type \"lstm\"; expected one of [linear, conv2d, maxpool2d, avgpool2d, "
                + "flatten, relu, tanh, sigmoid, gelu, dropout]", error(mlp("{\"type\": \"lstm\"}")));
        assertEquals("s.json: layers[0] (linear): unknown field \"units\"; expected [bias, out_features, type]",
                error(mlp("{\"type\": \"linear\", \"units\": 3}")));
        assertEquals("s.json: layers[0] (linear): out_features is required (an integer in [1, 16384])",
                error(mlp("{\"type\": \"linear\"}")));
        assertEquals("s.json: layers[1] (dropout): p must be a number in [0, 1), got 1.5",
                error(mlp("{\"type\": \"linear\", \"out_features\": 2}", "{\"type\": \"dropout\", \"p\": 1.5}")));
        assertEquals("s.json: the last layer's output has shape [2, 8, 8]; end with flatten and linear so the network "
                + "returns one row of outputs per example",
                error("{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 2, \"kernel_size\": 3, "
                        + "\"padding\": 1}]}"));
        assertTrue(error("{\"input\": [16], \"layers\": [}").startsWith("s.json: not valid JSON at line 1"));
        assertEquals("s.json: unknown field \"output\"; expected [input, layers]",
                error("{\"input\": [16], \"layers\": [], \"output\": 3}"));
        assertEquals("s.json: \"layers\" must be a non-empty array of layers", error("{\"input\": [16], \"layers\": []}"));
        assertTrue(error("{\"input\": [16], \"input\": [4], \"layers\": []}").contains("Duplicate field 'input'"));
    }

    /**
     * Found by fuzzing: JSON nested past Jackson's own limit made parse throw a NullPointerException
     * (that error carries no location), and content after the spec's object was silently ignored.
     * Nesting now has its own limit, named in the error, and trailing content is refused.
     */
    @Test
    void deepNestingAndTrailingContentAreRefusedByName() {
        String deep = "{\"input\": [16], \"x\": " + "[".repeat(5_000) + "]".repeat(5_000) + "}";
        // Jackson's limit error carries no location, so none is given
        assertEquals("s.json: JSON nested deeper than 8 levels (ModelSpec.MAX_DEPTH; a spec needs 3)", error(deep));
        assertTrue(error(mlp("{\"type\": \"linear\", \"out_features\": [[[[[[[[2]]]]]]]]}"))
                .contains("nested deeper than 8 levels"));
        assertTrue(error(mlp("{\"type\": \"linear\", \"out_features\": 2}") + " {}")
                .startsWith("s.json: not valid JSON at line 1"), error(mlp("{\"type\": \"linear\", \"out_features\": 2}") + " {}"));
    }

    /** Found by fuzzing: a field or type name holding a line break made a two-line error. */
    @Test
    void namesFromTheFileAreQuotedAsJsonAndCut() {
        assertEquals("s.json: layers[0] (linear): unknown field \"ke\\rnel\"; expected [bias, out_features, type]",
                error(mlp("{\"type\": \"linear\", \"ke\\rnel\": 3}")));
        String e = error(mlp("{\"type\": \"" + "q".repeat(30_000) + "\"}"));
        assertTrue(e.startsWith("s.json: layers[0]: unknown type \"qqq") && e.contains("… (30002 characters)")
                && e.length() < 300, e);
    }
}
