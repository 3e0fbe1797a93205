package io.sparkgrad.jobs.train;

import java.util.Locale;

/**
 * The learning rate of each epoch, by PyTorch's closed forms: {@code constant}; {@code step}
 * ({@code StepLR}: {@code lr · gamma^⌊epoch / stepSize⌋}); {@code cosine}
 * ({@code CosineAnnealingLR} with {@code T_max} = the number of epochs:
 * {@code min + (lr − min)(1 + cos(π · epoch / epochs)) / 2}). Epochs count from 0.
 *
 * @param kind     constant, step or cosine
 * @param lr       the base learning rate
 * @param stepSize step: epochs between decays
 * @param gamma    step: the decay factor
 * @param min      cosine: the final learning rate
 * @param epochs   cosine: the period
 */
public record LrSchedule(String kind, double lr, int stepSize, double gamma, double min, int epochs) {
    /** The names {@code --lr-schedule} accepts. */
    public static final String[] KINDS = {"constant", "step", "cosine"};

    public LrSchedule {
        kind = kind.toLowerCase(Locale.ROOT);
        if (!java.util.Arrays.asList(KINDS).contains(kind)) {
            throw new IllegalArgumentException("unknown schedule " + kind);
        }
    }

    /** The learning rate of epoch {@code epoch} (from 0). */
    public double at(int epoch) {
        switch (kind) {
            case "step":
                return lr * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
            case "cosine":
                return min + (lr - min) * (1 + Math.cos(Math.PI * epoch / epochs)) / 2;
            default:
                return lr;
        }
    }

    @Override
    public String toString() {
        switch (kind) {
            case "step":
                return String.format(Locale.ROOT, "step(lr=%g, every %d epochs x %g)", lr, stepSize, gamma);
            case "cosine":
                return String.format(Locale.ROOT, "cosine(lr=%g -> %g over %d epochs)", lr, min, epochs);
            default:
                return String.format(Locale.ROOT, "constant(lr=%g)", lr);
        }
    }
}
