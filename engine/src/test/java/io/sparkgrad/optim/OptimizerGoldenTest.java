package io.sparkgrad.optim;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every optimizer against PyTorch 1.13's trajectories: for each case of sgd.json, adam.json,
 * adamw.json and rmsprop.json, the problem of problem.json is run for its 20 steps (gradients
 * {@code p * C + G[k]}, some parameters without a gradient at some steps, a schedule stepped
 * after every step where the case has one), and every parameter is compared after every step:
 * float64 to within {@value Golden#TOL64} (absolute plus relative) of PyTorch's float64 run,
 * float32 to within {@value Golden#TOL32} of PyTorch's float32 run.
 */
class OptimizerGoldenTest {
    private static final Golden.Problem PROBLEM = Golden.Problem.load();

    @TestFactory
    Stream<DynamicNode> trajectories() {
        List<DynamicNode> files = new ArrayList<>();
        for (String family : List.of("sgd", "adam", "adamw", "rmsprop")) {
            List<DynamicNode> cases = new ArrayList<>();
            for (JsonNode c : Golden.read(family + ".json").get("cases")) {
                String name = c.get("name").asText();
                cases.add(DynamicTest.dynamicTest(name + " float64", () -> check(c, DType.FLOAT64, Golden.TOL64)));
                cases.add(DynamicTest.dynamicTest(name + " float32", () -> check(c, DType.FLOAT32, Golden.TOL32)));
            }
            files.add(DynamicContainer.dynamicContainer(family, cases));
        }
        return files.stream();
    }

    private static String family(JsonNode c) {
        return c.get("optimizer").asText() + "/" + c.get("name").asText();
    }

    private static void check(JsonNode c, DType dtype, double tol) {
        List<Tensor> params = PROBLEM.params(dtype);
        Optimizer opt = Golden.optimizer(c, params);
        LRScheduler sched = Golden.schedule(c.get("schedule"), opt);
        JsonNode expected = c.get(dtype == DType.FLOAT64 ? "float64" : "float32");
        for (int k = 0; k < PROBLEM.steps; k++) {
            PROBLEM.setGrads(params, k);
            opt.step();
            if (sched != null) {
                sched.step();
            }
            for (int i = 0; i < params.size(); i++) {
                Golden.assertClose(Golden.doubles(expected.get(k).get(i)), params.get(i).toDoubleArray(), tol,
                        family(c) + " " + dtype + ": step " + (k + 1) + " param " + i);
            }
        }
    }
}
