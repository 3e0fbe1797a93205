package io.sparkgrad.optim;

import java.util.Map;

/**
 * Multiplies every group's learning rate by {@code gamma} once every {@code stepSize} epochs:
 * {@code lr(e) = initial_lr * gamma^floor(e / stepSize)} ({@code torch.optim.lr_scheduler.StepLR}).
 */
public final class StepLR extends LRScheduler {
    private int stepSize;
    private double gamma;

    /** With PyTorch's default {@code gamma = 0.1}. */
    public StepLR(Optimizer optimizer, int stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("StepLR: stepSize must be positive, got " + stepSize);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        int e = lastEpoch();
        if (e != 0 && e % stepSize == 0) {
            for (int i = 0; i < lrs.length; i++) {
                lrs[i] = lrs[i] * gamma;
            }
        }
        return lrs;
    }

    @Override
    protected double[] closedFormLr() {
        double[] lrs = baseLrs();
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = lrs[i] * Math.pow(gamma, Math.floorDiv(lastEpoch(), stepSize));
        }
        return lrs;
    }

    @Override
    protected void saveSettings(Map<String, String> out) {
        out.put("step_size", Integer.toString(stepSize));
        out.put("gamma", Double.toString(gamma));
    }

    @Override
    protected void loadSettings(Map<String, String> in) {
        int s = parseInt(in, "step_size");
        double g = parseDouble(in, "gamma");
        if (s <= 0) {
            throw new IllegalArgumentException("scheduler state \"step_size\" must be positive, got " + s);
        }
        stepSize = s;
        gamma = g;
    }
}
