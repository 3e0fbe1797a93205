package io.sparkgrad.optim;

import static io.sparkgrad.optim.OptimizerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sparkgrad.Tensor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Scheduler state round trips and the errors a wrong schedule or state gets. */
class SchedulerTest {

    private static SGD sgd(double lr) {
        return new SGD(List.of(Tensor.zeros(1).requiresGrad_()), lr);
    }

    @Test
    void constructionSetsEpochZeroAndRecordsTheInitialRate() {
        SGD opt = sgd(0.2);
        LinearLR warm = new LinearLR(opt, 0.25, 1.0, 4);
        assertEquals(0, warm.lastEpoch());
        assertEquals(0.05, opt.paramGroups().get(0).lr(), 1e-17);
        assertEquals(0.2, opt.paramGroups().get(0).getDouble("initial_lr"));
        assertArrayEquals(new double[] {0.2}, warm.baseLrs());
    }

    @Test
    void stateRoundTripContinuesExactlyForEverySchedule() {
        for (int kind = 0; kind < 4; kind++) {
            SGD a = sgd(0.1);
            LRScheduler sa = schedule(kind, a);
            for (int e = 0; e < 7; e++) {
                sa.step();
            }
            Map<String, String> saved = sa.stateDict();
            var optState = a.stateDict();
            SGD b = sgd(0.1);
            LRScheduler sb = schedule(kind, b);
            b.loadStateDict(optState);
            sb.loadStateDict(saved);
            assertEquals(saved, sb.stateDict(), "kind " + kind + ": the loaded state is the saved one");
            for (int e = 7; e < 30; e++) {
                sa.step();
                sb.step();
                assertArrayEquals(sa.getLastLr(), sb.getLastLr(), "kind " + kind + " epoch " + (e + 1));
                assertEquals(a.paramGroups().get(0).lr(), b.paramGroups().get(0).lr());
            }
        }
    }

    private static LRScheduler schedule(int kind, Optimizer opt) {
        switch (kind) {
            case 0: return new StepLR(opt, 3, 0.5);
            case 1: return new CosineAnnealingLR(opt, 10, 1e-3);
            case 2: return new LinearLR(opt, 0.1, 1.0, 12);
            default: return SequentialLR.warmupCosine(opt, 4, 0.2, 20, 0.0);
        }
    }

    @Test
    void loadingRestoresTheSavedSettingsAsPyTorchDoes() {
        SGD a = sgd(0.1);
        StepLR sa = new StepLR(a, 2, 0.5);
        SGD b = sgd(0.1);
        StepLR sb = new StepLR(b, 5, 0.9);
        sb.loadStateDict(sa.stateDict());
        assertEquals("2", sb.stateDict().get("step_size"));
        assertEquals("0.5", sb.stateDict().get("gamma"));
    }

    @Test
    void badScheduleArgumentsAreRefused() {
        SGD opt = sgd(0.1);
        assertMessage("stepSize must be positive", () -> new StepLR(opt, 0));
        assertMessage("tMax must be positive", () -> new CosineAnnealingLR(opt, 0));
        assertMessage("startFactor must be in (0, 1]", () -> new LinearLR(opt, 0.0, 1.0, 5));
        assertMessage("endFactor must be in [0, 1]", () -> new LinearLR(opt, 0.5, 1.5, 5));
        assertMessage("totalIters must be positive", () -> new LinearLR(opt, 0.5, 1.0, 0));
        LinearLR warm = new LinearLR(opt, 0.5, 1.0, 2);
        StepLR step = new StepLR(opt, 2);
        assertMessage("one milestone fewer than schedulers", () -> new SequentialLR(opt, List.of(warm, step), new int[0]));
        assertMessage("positive and increasing", () -> new SequentialLR(opt, List.of(warm, step), new int[] {0}));
        StepLR other = new StepLR(sgd(0.1), 2);
        assertMessage("scheduler 1 belongs to another", () -> new SequentialLR(opt, List.of(warm, other), new int[] {2}));
    }

    @Test
    void badStateIsRefusedAndChangesNothing() {
        SGD opt = sgd(0.1);
        SequentialLR seq = SequentialLR.warmupCosine(opt, 3, 0.5, 10, 0.0);
        seq.step();
        Map<String, String> good = seq.stateDict();
        assertMessage("for StepLR, not CosineAnnealingLR", () -> new CosineAnnealingLR(sgd(0.1), 5)
                .loadStateDict(new StepLR(sgd(0.1), 2).stateDict()));
        Map<String, String> bad = new HashMap<>(good);
        bad.put("schedulers.1.T_max", "-4");
        assertMessage("\"T_max\" must be positive", () -> seq.loadStateDict(bad));
        bad.put("schedulers.1.T_max", "ten");
        assertMessage("\"T_max\" = \"ten\" is not an integer", () -> seq.loadStateDict(bad));
        Map<String, String> noEpoch = new HashMap<>(good);
        noEpoch.remove("last_epoch");
        assertMessage("no \"last_epoch\"", () -> seq.loadStateDict(noEpoch));
        assertEquals(good, seq.stateDict(), "failed loads changed nothing");
    }
}
