package io.sparkgrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Learning rates per epoch against PyTorch 1.13's (schedules.json): an SGD optimizer with two
 * groups (lr 0.1 and 0.05), the schedule built on it, the rates at construction and after each
 * {@code step()}, to within {@value Golden#TOL64} absolute plus relative.
 */
class ScheduleGoldenTest {

    @TestFactory
    Stream<DynamicTest> schedules() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : Golden.read("schedules.json").get("cases")) {
            tests.add(DynamicTest.dynamicTest(c.get("name").asText(),
                    () -> check(c, opt -> Golden.schedule(c.get("schedule"), opt))));
        }
        return tests.stream();
    }

    /** The shortcut gives PyTorch's LinearLR-then-cosine SequentialLR. */
    @TestFactory
    Stream<DynamicTest> warmupCosineShortcut() {
        for (JsonNode c : Golden.read("schedules.json").get("cases")) {
            if (c.get("name").asText().equals("warmup_cosine")) {
                JsonNode spec = c.get("schedule");
                JsonNode warm = spec.get("schedulers").get(0);
                JsonNode cos = spec.get("schedulers").get(1);
                return Stream.of(DynamicTest.dynamicTest("warmup_cosine", () -> check(c, opt ->
                        SequentialLR.warmupCosine(opt, warm.get("total_iters").asInt(),
                                warm.get("start_factor").asDouble(), cos.get("T_max").asInt(),
                                cos.get("eta_min").asDouble()))));
            }
        }
        throw new IllegalStateException("schedules.json has no warmup_cosine case");
    }

    private static void check(JsonNode c, Function<Optimizer, LRScheduler> build) {
        double[] groupLrs = Golden.doubles(c.get("group_lrs"));
        List<ParamGroup> groups = new ArrayList<>();
        for (double lr : groupLrs) {
            groups.add(ParamGroup.of(List.of(Tensor.zeros(1).requiresGrad_())).set("lr", lr));
        }
        SGD opt = new SGD(new SGD.Options().lr(1.0), groups);
        LRScheduler sched = build.apply(opt);
        JsonNode lrs = c.get("lrs");
        for (int e = 0; e < lrs.size(); e++) {
            if (e > 0) {
                opt.step();
                sched.step();
            }
            String what = c.get("name").asText() + " epoch " + e;
            Golden.assertClose(Golden.doubles(lrs.get(e)), sched.getLastLr(), Golden.TOL64, what);
            double[] inGroups = opt.paramGroups().stream().mapToDouble(ParamGroup::lr).toArray();
            assertArrayEquals(sched.getLastLr(), inGroups, what + ": the groups hold the scheduler's rates");
        }
    }
}
