package io.sparkgrad.optim;

import java.util.Map;

/**
 * Scales each group's initial rate by a factor that moves linearly from {@code startFactor} to
 * {@code endFactor} over {@code totalIters} epochs, then stays ({@code torch.optim.lr_scheduler.LinearLR}):
 * {@code lr(e) = initial_lr * (start + (end - start) * min(e, totalIters) / totalIters)}.
 * With {@code startFactor < 1 = endFactor} it is a linear warm-up. Computed recursively from the
 * current rate, as PyTorch does:
 * <pre>
 * lr(0) = lr * start
 * lr(e) = lr(e-1) * (1 + (end - start) / (totalIters * start + (e - 1) * (end - start)))   for 0 < e <= totalIters
 * </pre>
 */
public final class LinearLR extends LRScheduler {
    private double startFactor;
    private double endFactor;
    private int totalIters;

    /** With PyTorch's defaults: from 1/3 to 1 over 5 epochs. */
    public LinearLR(Optimizer optimizer) {
        this(optimizer, 1.0 / 3, 1.0, 5);
    }

    public LinearLR(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        super(optimizer);
        check(startFactor, endFactor, totalIters);
        this.startFactor = startFactor;
        this.endFactor = endFactor;
        this.totalIters = totalIters;
        initialStep();
    }

    private static void check(double startFactor, double endFactor, int totalIters) {
        // A start factor of 0 would divide by zero in the recursive form (PyTorch 2 refuses it too).
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("LinearLR: startFactor must be in (0, 1], got " + startFactor);
        }
        if (!(endFactor >= 0 && endFactor <= 1)) {
            throw new IllegalArgumentException("LinearLR: endFactor must be in [0, 1], got " + endFactor);
        }
        if (totalIters <= 0) {
            throw new IllegalArgumentException("LinearLR: totalIters must be positive, got " + totalIters);
        }
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        int e = lastEpoch();
        if (e > totalIters) {
            return lrs;
        }
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = e == 0 ? lrs[i] * startFactor
                    : lrs[i] * (1. + (endFactor - startFactor)
                            / (totalIters * startFactor + (e - 1) * (endFactor - startFactor)));
        }
        return lrs;
    }

    @Override
    protected double[] closedFormLr() {
        double[] lrs = baseLrs();
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = lrs[i] * (startFactor + (endFactor - startFactor) * Math.min(totalIters, lastEpoch()) / totalIters);
        }
        return lrs;
    }

    @Override
    protected void saveSettings(Map<String, String> out) {
        out.put("start_factor", Double.toString(startFactor));
        out.put("end_factor", Double.toString(endFactor));
        out.put("total_iters", Integer.toString(totalIters));
    }

    @Override
    protected void loadSettings(Map<String, String> in) {
        double s = parseDouble(in, "start_factor");
        double e = parseDouble(in, "end_factor");
        int t = parseInt(in, "total_iters");
        check(s, e, t);
        startFactor = s;
        endFactor = e;
        totalIters = t;
    }
}
