package io.sparkgrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run saved after 10 steps to a safetensors file (parameters, optimizer state and schedule
 * state in one file) and resumed in fresh objects continues bit for bit as the uninterrupted
 * 20-step run: every parameter and learning rate equal exactly after every one of the 10 resumed
 * steps, in float32 and float64, for every optimizer with its state-heavy options (momentum,
 * Nesterov, AMSGrad, centering), two parameter groups, and every schedule.
 */
class ResumeTest {
    private static final Golden.Problem PROBLEM = Golden.Problem.load();
    private static final int SAVE_AT = 10;

    @TempDir
    Path dir;

    /** An optimizer over two groups (the second with its own lr) and a schedule on it. */
    private record Setup(String name, Function<List<Tensor>, Optimizer> optimizer,
            Function<Optimizer, LRScheduler> schedule) {
    }

    private static List<ParamGroup> groups(List<Tensor> params) {
        return List.of(ParamGroup.of(params.subList(0, 1)), ParamGroup.of(params.subList(1, 2)).set("lr", 0.02));
    }

    private static final List<Setup> SETUPS = List.of(
            new Setup("SGD nesterov + StepLR",
                    ps -> new SGD(new SGD.Options().lr(0.05).momentum(0.9).nesterov(true).weightDecay(0.01), groups(ps)),
                    opt -> new StepLR(opt, 4, 0.5)),
            new Setup("SGD dampening + LinearLR",
                    ps -> new SGD(new SGD.Options().lr(0.05).momentum(0.8).dampening(0.2), groups(ps)),
                    opt -> new LinearLR(opt, 0.2, 1.0, 15)),
            new Setup("Adam amsgrad + warm-up cosine",
                    ps -> new Adam(new Adam.Options().lr(0.01).amsgrad(true).weightDecay(0.05), groups(ps)),
                    opt -> SequentialLR.warmupCosine(opt, 6, 0.1, 12, 1e-4)),
            new Setup("AdamW amsgrad + cosine",
                    ps -> new AdamW(new Adam.Options().lr(0.01).betas(0.8, 0.99).amsgrad(true), groups(ps)),
                    opt -> new CosineAnnealingLR(opt, 8, 0.001)),
            new Setup("RMSprop centered momentum + warm-up step",
                    ps -> new RMSprop(new RMSprop.Options().lr(0.005).centered(true).momentum(0.9).weightDecay(0.01),
                            groups(ps)),
                    opt -> new SequentialLR(opt, List.of(new LinearLR(opt, 0.5, 1.0, 3), new StepLR(opt, 5, 0.3)),
                            new int[] {3})));

    @TestFactory
    Stream<DynamicTest> resumedRunEqualsUninterrupted() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Setup s : SETUPS) {
            for (DType dtype : List.of(DType.FLOAT64, DType.FLOAT32)) {
                tests.add(DynamicTest.dynamicTest(s.name() + " " + dtype, () -> check(s, dtype)));
            }
        }
        return tests.stream();
    }

    private void check(Setup s, DType dtype) throws IOException {
        // The uninterrupted run, recording parameters and rates after every step.
        List<Tensor> params = PROBLEM.params(dtype);
        Optimizer opt = s.optimizer().apply(params);
        LRScheduler sched = s.schedule().apply(opt);
        List<double[][]> expected = new ArrayList<>();
        List<double[]> expectedLrs = new ArrayList<>();
        for (int k = 0; k < PROBLEM.steps; k++) {
            step(params, opt, sched, k);
            expected.add(values(params));
            expectedLrs.add(sched.getLastLr());
        }

        // The same run up to SAVE_AT, saved, and everything thrown away.
        Path file = dir.resolve("checkpoint.safetensors");
        {
            List<Tensor> ps = PROBLEM.params(dtype);
            Optimizer o = s.optimizer().apply(ps);
            LRScheduler sc = s.schedule().apply(o);
            for (int k = 0; k < SAVE_AT; k++) {
                step(ps, o, sc, k);
            }
            StateDict optState = o.stateDict().withPrefix("optimizer.");
            Map<String, Tensor> tensors = new TreeMap<>(optState.tensors());
            Map<String, String> metadata = new TreeMap<>(optState.metadata());
            for (int i = 0; i < ps.size(); i++) {
                tensors.put("model.p" + i, ps.get(i).detach());
            }
            sc.stateDict().forEach((k, v) -> metadata.put("scheduler." + k, v));
            SafeTensors.save(tensors, metadata, file);
        }

        // Resume: parameters from the file, optimizer and schedule built as at the start, then loaded.
        SafeTensors.Contents c = SafeTensors.load(file);
        List<Tensor> resumed = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            resumed.add(c.tensors().get("model.p" + i).requiresGrad_());
        }
        Optimizer o = s.optimizer().apply(resumed);
        LRScheduler sc = s.schedule().apply(o);
        o.loadStateDict(StateDict.select(c.tensors(), c.metadata(), "optimizer."));
        sc.loadStateDict(StateDict.select(Map.of(), c.metadata(), "scheduler.").metadata());
        for (int k = SAVE_AT; k < PROBLEM.steps; k++) {
            step(resumed, o, sc, k);
            double[][] got = values(resumed);
            for (int i = 0; i < got.length; i++) {
                assertArrayEquals(expected.get(k)[i], got[i], s.name() + " " + dtype + ": param " + i + " after step "
                        + (k + 1) + " differs from the uninterrupted run");
            }
            assertArrayEquals(expectedLrs.get(k), sc.getLastLr(), "learning rates after step " + (k + 1));
        }
    }

    private static void step(List<Tensor> params, Optimizer opt, LRScheduler sched, int k) {
        PROBLEM.setGrads(params, k);
        opt.step();
        sched.step();
    }

    private static double[][] values(List<Tensor> params) {
        double[][] out = new double[params.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = params.get(i).toDoubleArray();
        }
        return out;
    }

    /** Without the scheduler's state the resumed rates would differ: the check above is not vacuous. */
    @TestFactory
    Stream<DynamicTest> schedulesMoveDuringTheResumedSteps() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Setup s : SETUPS) {
            tests.add(DynamicTest.dynamicTest(s.name(), () -> {
                List<Tensor> ps = PROBLEM.params(DType.FLOAT64);
                Optimizer o = s.optimizer().apply(ps);
                LRScheduler sc = s.schedule().apply(o);
                List<double[]> lrs = new ArrayList<>();
                for (int k = 0; k < PROBLEM.steps; k++) {
                    step(ps, o, sc, k);
                    lrs.add(sc.getLastLr());
                }
                assertFalse(java.util.Arrays.equals(lrs.get(SAVE_AT - 1), lrs.get(PROBLEM.steps - 1)),
                        "the schedule changes the rate after step " + SAVE_AT);
                assertEquals(2, o.paramGroups().size());
            }));
        }
        return tests.stream();
    }
}
