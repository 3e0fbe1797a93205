package io.sparkgrad.jobs.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The schedules' rates per epoch, as PyTorch's StepLR and CosineAnnealingLR give them. */
class LrScheduleTest {
    @Test
    void stepDecaysEveryStepSizeEpochs() {
        LrSchedule s = new LrSchedule("step", 0.1, 2, 0.1, 0, 5);
        double[] want = {0.1, 0.1, 0.01, 0.01, 0.001};
        for (int e = 0; e < want.length; e++) {
            assertEquals(want[e], s.at(e), 1e-15, "epoch " + e);
        }
    }

    @Test
    void cosineAnnealsToTheMinimumOverTheEpochs() {
        LrSchedule s = new LrSchedule("cosine", 0.1, 1, 0.5, 0.001, 4);
        assertEquals(0.1, s.at(0), 1e-15);
        assertEquals(0.001 + 0.099 * (1 + Math.cos(Math.PI / 4)) / 2, s.at(1), 1e-15);
        assertEquals(0.0505, s.at(2), 1e-15);
        assertEquals(0.001, s.at(4), 1e-15);
    }

    @Test
    void constantIsConstant() {
        LrSchedule s = new LrSchedule("CONSTANT", 0.003, 1, 0.5, 0, 10);
        assertEquals("constant", s.kind());
        assertEquals(0.003, s.at(9));
    }
}
