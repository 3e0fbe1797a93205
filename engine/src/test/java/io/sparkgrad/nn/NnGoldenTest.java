package io.sparkgrad.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Layers, losses and their primitives against PyTorch's own numbers. The files under
 * {@code nn-golden/} are written by {@code scripts/gen-nn-golden.py} (PyTorch 1.13, float64).
 * For a module case the Java module is built with the same arguments, converted to float64, and
 * loaded (strictly) with PyTorch's state dict, which checks every key name; then the forward
 * output, the gradients of the input and of every parameter after {@code backward(g)}, and the
 * state dict afterwards (BatchNorm's running statistics) are compared to within {@value #TOL}
 * absolute plus {@value #TOL} relative.
 */
class NnGoldenTest {
    static final double TOL = 1e-10;

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicNode> golden() {
        List<DynamicNode> groups = new ArrayList<>();
        for (JsonNode file : read("/nn-golden/index.json").get("files")) {
            JsonNode doc = read("/nn-golden/" + file.asText());
            List<DynamicTest> cases = new ArrayList<>();
            for (JsonNode c : doc.get("cases")) {
                cases.add(DynamicTest.dynamicTest(c.get("id").asText(), () -> check(c)));
            }
            assertFalse(cases.isEmpty(), file.asText() + " has no cases");
            groups.add(DynamicContainer.dynamicContainer(doc.get("group").asText(), cases));
        }
        assertTrue(groups.size() >= 20, "expected every nn golden group, found " + groups.size());
        return groups.stream();
    }

    private static void check(JsonNode c) {
        String id = c.get("id").asText();
        JsonNode args = c.get("args");
        List<Tensor> inputs = new ArrayList<>();
        JsonNode rg = c.get("requires_grad");
        for (int i = 0; i < c.get("inputs").size(); i++) {
            Tensor t = tensor(c.get("inputs").get(i));
            inputs.add(rg.get(i).asBoolean() ? t.requiresGrad_() : t);
        }

        Module module = null;
        Tensor out;
        if (c.get("module").asText().equals("function")) {
            out = function(c.get("function").asText(), args, inputs.get(0));
        } else {
            module = module(c.get("module").asText(), args).to(DType.FLOAT64);
            Map<String, Tensor> state = tensors(c.get("state"));
            assertEquals(new ArrayList<>(state.keySet()), new ArrayList<>(module.stateDict().keySet()),
                    id + ": state dict keys (and their order) differ from PyTorch's");
            IncompatibleKeys result = module.loadStateDict(state);
            assertTrue(result.isEmpty(), id + ": " + result);
            module.train(c.get("train").asBoolean());
            out = module instanceof Loss ? ((Loss) module).apply(inputs.get(0), inputs.get(1)) : module.apply(inputs.get(0));
        }
        assertClose(id + " output", tensor(c.get("output")), out);

        out.backward(tensor(c.get("g")));
        Iterator<Map.Entry<String, JsonNode>> grads = c.get("grads").fields();
        Map<String, Parameter> params = module == null ? Map.of() : module.namedParameters();
        List<String> compared = new ArrayList<>();
        while (grads.hasNext()) {
            Map.Entry<String, JsonNode> e = grads.next();
            String name = e.getKey();
            Tensor actual = name.startsWith("input") ? inputs.get(Integer.parseInt(name.substring(5))).grad()
                    : params.get(name).grad();
            assertNotNull(actual, id + ": no gradient for " + name);
            assertClose(id + " grad " + name, tensor(e.getValue()), actual);
            compared.add(name);
        }
        for (Map.Entry<String, Parameter> p : params.entrySet()) {
            if (!compared.contains(p.getKey())) {
                assertNull(p.getValue().grad(), id + ": PyTorch gives " + p.getKey() + " no gradient");
            }
        }
        if (module != null) {
            Map<String, Tensor> after = module.stateDict();
            for (Map.Entry<String, Tensor> e : tensors(c.get("state_after")).entrySet()) {
                assertClose(id + " state after forward: " + e.getKey(), e.getValue(), after.get(e.getKey()));
            }
        }
    }

    // ------------------------------------------------------------------ building

    private static Module module(String name, JsonNode a) {
        Generator gen = new Generator(1);
        switch (name) {
            case "Linear":
                return new Linear(a.get("in").asInt(), a.get("out").asInt(), a.get("bias").asBoolean(), gen);
            case "Conv2d":
                return new Conv2d(a.get("in").asInt(), a.get("out").asInt(), ints(a.get("kernel")), ints(a.get("stride")),
                        ints(a.get("padding")), a.get("bias").asBoolean(), gen);
            case "MaxPool2d":
                return new MaxPool2d(ints(a.get("kernel")), ints(a.get("stride")), ints(a.get("padding")));
            case "AvgPool2d":
                return new AvgPool2d(ints(a.get("kernel")), ints(a.get("stride")), ints(a.get("padding")));
            case "LayerNorm":
                return new LayerNorm(ints(a.get("shape")), a.get("eps").asDouble(), a.get("affine").asBoolean());
            case "BatchNorm1d":
                return new BatchNorm1d(a.get("features").asInt(), a.get("eps").asDouble(), momentum(a),
                        a.get("affine").asBoolean(), a.get("track").asBoolean());
            case "BatchNorm2d":
                return new BatchNorm2d(a.get("features").asInt(), a.get("eps").asDouble(), momentum(a),
                        a.get("affine").asBoolean(), a.get("track").asBoolean());
            case "GELU":
                return new GELU(a.get("approximate").asText());
            case "Embedding":
                return new Embedding(a.get("num").asInt(), a.get("dim").asInt(), a.get("padding_idx").asLong(), gen);
            case "ReLU":
                return new ReLU();
            case "Tanh":
                return new Tanh();
            case "Sigmoid":
                return new Sigmoid();
            case "Softmax":
                return new Softmax(a.get("dim").asInt());
            case "Flatten":
                return new Flatten(a.get("start").asInt(), a.get("end").asInt());
            case "Sequential":
                // The same network as sequential() in the script.
                return new Sequential(new Conv2d(1, 3, 3, 1, 1), new BatchNorm2d(3), new ReLU(), new MaxPool2d(2),
                        new Flatten(), new Linear(3 * 3 * 3, 4), new GELU(), new LayerNorm(4), new Linear(4, 2));
            case "CrossEntropyLoss":
                return new CrossEntropyLoss(optional(a.get("weight")), a.get("ignore_index").asLong(), reduction(a),
                        a.get("label_smoothing").asDouble());
            case "NLLLoss":
                return new NLLLoss(optional(a.get("weight")), a.get("ignore_index").asLong(), reduction(a));
            case "BCEWithLogitsLoss":
                return new BCEWithLogitsLoss(optional(a.get("weight")), reduction(a), optional(a.get("pos_weight")));
            case "MSELoss":
                return new MSELoss(reduction(a));
            case "L1Loss":
                return new L1Loss(reduction(a));
            case "HuberLoss":
                return new HuberLoss(reduction(a), a.get("delta").asDouble());
            default:
                throw new AssertionError("no Java module for golden case module " + name);
        }
    }

    private static Tensor function(String name, JsonNode a, Tensor x) {
        switch (name) {
            case "unfold":
                return F.unfold(x, ints(a.get("kernel")), ints(a.get("padding")), ints(a.get("stride")));
            case "fold":
                return F.fold(x, ints(a.get("output")), ints(a.get("kernel")), ints(a.get("padding")), ints(a.get("stride")));
            case "erf":
                return F.erf(x);
            default:
                throw new AssertionError("no Java function for golden case function " + name);
        }
    }

    private static Double momentum(JsonNode a) {
        return a.get("momentum").isNull() ? null : a.get("momentum").asDouble();
    }

    private static Reduction reduction(JsonNode a) {
        return Reduction.valueOf(a.get("reduction").asText().toUpperCase(Locale.ROOT));
    }

    private static Tensor optional(JsonNode t) {
        return t == null || t.isNull() ? null : tensor(t);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    // ------------------------------------------------------------------ reading and comparing

    static Tensor tensor(JsonNode t) {
        int[] shape = ints(t.get("shape"));
        JsonNode values = t.get("values");
        switch (t.get("dtype").asText()) {
            case "float64": {
                double[] v = new double[values.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = values.get(i).asDouble();
                }
                return Tensor.of(v, shape);
            }
            case "int64": {
                long[] v = new long[values.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = values.get(i).asLong();
                }
                return Tensor.of(v, shape);
            }
            default:
                throw new AssertionError("unexpected dtype in golden file: " + t.get("dtype"));
        }
    }

    private static Map<String, Tensor> tensors(JsonNode object) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = object.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), tensor(e.getValue()));
        }
        return out;
    }

    static void assertClose(String what, Tensor expected, Tensor actual) {
        assertNotNull(actual, what + ": missing");
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()),
                what + ": shape");
        assertEquals(expected.dtype(), actual.dtype(), what + ": dtype");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double bound = TOL + TOL * Math.abs(e[i]);
            if (!(Math.abs(e[i] - a[i]) <= bound)) {
                throw new AssertionError(String.format(Locale.ROOT,
                        "%s: element %d is %.17g, PyTorch gives %.17g (difference %.3g > %.3g)",
                        what, i, a[i], e[i], Math.abs(e[i] - a[i]), bound));
            }
        }
    }

    static JsonNode read(String resource) {
        try (InputStream in = NnGoldenTest.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new AssertionError("missing test resource " + resource + " (run scripts/gen-nn-golden.py)");
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
