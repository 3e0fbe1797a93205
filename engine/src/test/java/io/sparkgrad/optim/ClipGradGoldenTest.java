package io.sparkgrad.optim;

import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link ClipGrad#clipGradNorm_} against {@code torch.nn.utils.clip_grad_norm_} (clip_grad_norm.json):
 * the returned total norm and the clipped gradients, float64 to within {@value Golden#TOL64} and
 * float32 to within {@value Golden#TOL32} (absolute plus relative) of PyTorch's.
 */
class ClipGradGoldenTest {

    @TestFactory
    Stream<DynamicTest> cases() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Golden.read("clip_grad_norm.json").get("cases")) {
            String name = c.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name + " float64", () -> check(c, DType.FLOAT64, Golden.TOL64)));
            tests.add(DynamicTest.dynamicTest(name + " float32", () -> check(c, DType.FLOAT32, Golden.TOL32)));
        }
        return tests.stream();
    }

    private static void check(JsonNode c, DType dtype, double tol) {
        JsonNode shapes = c.get("shapes");
        List<Tensor> params = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            int[] shape = Golden.ints(shapes.get(i));
            Tensor p = Tensor.zeros(dtype, shape).requiresGrad_();
            JsonNode g = c.get("grads").get(i);
            p.setGrad(g.isNull() ? null : Golden.tensor(Golden.doubles(g), shape, dtype));
            params.add(p);
        }
        JsonNode nt = c.get("norm_type");
        double normType = nt.isTextual() ? Double.POSITIVE_INFINITY : nt.asDouble();
        double total = ClipGrad.clipGradNorm_(params, c.get("max_norm").asDouble(), normType);

        String name = c.get("name").asText() + " " + dtype;
        JsonNode expected = c.get(dtype == DType.FLOAT64 ? "float64" : "float32");
        Golden.assertClose(new double[] {expected.get("total_norm").asDouble()}, new double[] {total}, tol,
                name + ": total norm");
        for (int i = 0; i < params.size(); i++) {
            JsonNode e = expected.get("clipped").get(i);
            if (e.isNull()) {
                assertNull(params.get(i).grad(), name + ": param " + i + " had no gradient and still has none");
            } else {
                Golden.assertClose(Golden.doubles(e), params.get(i).grad().toDoubleArray(), tol,
                        name + ": clipped gradient " + i);
            }
        }
    }
}
