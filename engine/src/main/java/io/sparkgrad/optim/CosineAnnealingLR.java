package io.sparkgrad.optim;

import java.util.Map;

/**
 * Cosine annealing from each group's initial rate down to {@code etaMin} over {@code tMax}
 * epochs ({@code torch.optim.lr_scheduler.CosineAnnealingLR}, without restarts):
 * {@code lr(e) = etaMin + (initial_lr - etaMin) * (1 + cos(pi * e / tMax)) / 2}.
 * Past {@code tMax} the rate climbs back up the cosine, as in PyTorch.
 *
 * <p>PyTorch computes it recursively from the current rate (so other changes to the rate
 * compose with it), and so does this class:
 * <pre>
 * lr(e) = (1 + cos(pi * e / tMax)) / (1 + cos(pi * (e - 1) / tMax)) * (lr(e-1) - etaMin) + etaMin
 * lr(e) = lr(e-1) + (initial_lr - etaMin) * (1 - cos(pi / tMax)) / 2    when (e - 1 - tMax) % (2 tMax) == 0
 * </pre>
 * (the second form where the first would divide by zero).
 */
public final class CosineAnnealingLR extends LRScheduler {
    private int tMax;
    private double etaMin;

    /** With PyTorch's default {@code etaMin = 0}. */
    public CosineAnnealingLR(Optimizer optimizer, int tMax) {
        this(optimizer, tMax, 0.0);
    }

    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0) {
            throw new IllegalArgumentException("CosineAnnealingLR: tMax must be positive, got " + tMax);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        initialStep();
    }

    @Override
    protected double[] computeLr() {
        double[] lrs = currentLrs();
        double[] base = baseLrs();
        int e = lastEpoch();
        if (e == 0) {
            return lrs;
        }
        for (int i = 0; i < lrs.length; i++) {
            if (Math.floorMod(e - 1 - tMax, 2 * tMax) == 0) {
                lrs[i] = lrs[i] + (base[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
            } else {
                lrs[i] = (1 + Math.cos(Math.PI * e / tMax)) / (1 + Math.cos(Math.PI * (e - 1) / tMax))
                        * (lrs[i] - etaMin) + etaMin;
            }
        }
        return lrs;
    }

    @Override
    protected double[] closedFormLr() {
        double[] lrs = baseLrs();
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = etaMin + (lrs[i] - etaMin) * (1 + Math.cos(Math.PI * lastEpoch() / tMax)) / 2;
        }
        return lrs;
    }

    @Override
    protected void saveSettings(Map<String, String> out) {
        out.put("T_max", Integer.toString(tMax));
        out.put("eta_min", Double.toString(etaMin));
    }

    @Override
    protected void loadSettings(Map<String, String> in) {
        int t = parseInt(in, "T_max");
        double eta = parseDouble(in, "eta_min");
        if (t <= 0) {
            throw new IllegalArgumentException("scheduler state \"T_max\" must be positive, got " + t);
        }
        tMax = t;
        etaMin = eta;
    }
}
