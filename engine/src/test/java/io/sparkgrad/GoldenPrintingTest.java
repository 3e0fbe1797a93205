package io.sparkgrad;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code toString()} against PyTorch's {@code str(tensor)}, character for character. The cases in
 * {@code golden/printing.json} are written by {@code scripts/gen-golden.py} (PyTorch 1.13, default
 * print options): float32, float64 and int64 tensors; integer-valued ({@code 4.}), fixed and
 * scientific modes; NaN and infinities; 0-dim, empty, summarized (more than 1000 elements),
 * wrapped and 3-D tensors; a transposed view; leaves that require grad and results with a grad_fn.
 * Each tensor is rebuilt from its exact values (float32 values are exact doubles in the file).
 */
class GoldenPrintingTest {
    /**
     * Cases where the engine is known to print differently from PyTorch, with the reason. Such a
     * case is still run: while it fails it is reported as skipped (aborted) with this reason, and
     * once the engine is fixed it passes and its entry should be removed.
     */
    @TestFactory
    Stream<DynamicTest> goldenPrinting() {
        JsonNode doc = GoldenOpsTest.read("/golden/printing.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : doc.get("cases")) {
            String id = c.get("id").asText();
            tests.add(DynamicTest.dynamicTest(id, () -> {
                String expected = c.get("expected").asText();
                String got = build(c).toString();
                assertEquals(expected, got, id);
            }));
        }
        assertTrue(tests.size() > 0, "no printing cases found");
        return tests.stream();
    }

    /** The tensor as the script made it: contiguous, permuted, marked requires_grad, then through the op. */
    private static Tensor build(JsonNode c) {
        int[] shape = GoldenOpsTest.ints(c.get("shape"));
        double[] values = GoldenOpsTest.doubles(c.get("values"));
        Tensor t;
        switch (c.get("dtype").asText()) {
            case "float32": {
                float[] f = new float[values.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) values[i];
                }
                t = Tensor.of(f, shape);
                break;
            }
            case "float64":
                t = Tensor.of(values, shape);
                break;
            case "int64": {
                long[] v = new long[values.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = c.get("values").get(i).asLong();
                }
                t = Tensor.of(v, shape);
                break;
            }
            default:
                throw new AssertionError("unexpected dtype " + c.get("dtype").asText());
        }
        if (c.has("permute")) {
            t = t.permute(GoldenOpsTest.ints(c.get("permute")));
        }
        if (c.get("requires_grad").asBoolean()) {
            t.requiresGrad_();
        }
        if (c.has("op")) {
            JsonNode op = c.get("op");
            switch (op.get("kind").asText()) {
                case "mul":
                    return t.mul(op.get("arg").asDouble());
                case "add":
                    return t.add(op.get("arg").asDouble());
                case "sum":
                    return t.sum();
                default:
                    throw new AssertionError("unexpected op " + op);
            }
        }
        return t;
    }
}
