package io.sparkgrad.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Runs schedulers one after another, switching at the given epochs
 * ({@code torch.optim.lr_scheduler.SequentialLR}): scheduler {@code k} drives the epochs from
 * {@code milestones[k-1]} on, and when it takes over it starts at its own epoch 0 from its
 * closed form (for a cosine: the initial rate). The usual use, linear warm-up then cosine
 * decay, has a shortcut:
 *
 * <pre>{@code
 * var sched = SequentialLR.warmupCosine(opt, 5, 0.1, 95, 0.0);   // 5 warm-up epochs, then 95 of cosine
 * // the same as:
 * var warm = new LinearLR(opt, 0.1, 1.0, 5);
 * var cos = new CosineAnnealingLR(opt, 95, 0.0);
 * var sched = new SequentialLR(opt, List.of(warm, cos), new int[] {5});
 * }</pre>
 *
 * Build the sub-schedulers on the same optimizer just before this one and step only this one.
 */
public final class SequentialLR extends LRScheduler {
    private final List<LRScheduler> schedulers;
    private int[] milestones;

    public SequentialLR(Optimizer optimizer, List<LRScheduler> schedulers, int[] milestones) {
        super(optimizer);
        if (schedulers.isEmpty()) {
            throw new IllegalArgumentException("SequentialLR needs at least one scheduler");
        }
        for (int i = 0; i < schedulers.size(); i++) {
            if (schedulers.get(i).optimizer() != optimizer) {
                throw new IllegalArgumentException("SequentialLR expects all schedulers to belong to its optimizer, "
                        + "but scheduler " + i + " belongs to another");
            }
        }
        checkMilestones(milestones, schedulers.size());
        this.schedulers = List.copyOf(schedulers);
        this.milestones = milestones.clone();
        // As PyTorch: rates back to the initial ones, every scheduler rewound by the step its
        // construction took, and only the first one stepped to its epoch 0.
        setLastEpoch(0);
        for (ParamGroup g : optimizer.paramGroups()) {
            g.setLr(g.getDouble("initial_lr"));
        }
        for (LRScheduler s : this.schedulers) {
            s.setLastEpoch(s.lastEpoch() - 1);
        }
        this.schedulers.get(0).initialStep();
        setLastLr(this.schedulers.get(0).getLastLr());
    }

    /** Linear warm-up from {@code startFactor} times the rate over {@code warmupEpochs}, then cosine annealing to {@code etaMin} over {@code cosineEpochs}. */
    public static SequentialLR warmupCosine(Optimizer optimizer, int warmupEpochs, double startFactor, int cosineEpochs,
            double etaMin) {
        LinearLR warmup = new LinearLR(optimizer, startFactor, 1.0, warmupEpochs);
        CosineAnnealingLR cosine = new CosineAnnealingLR(optimizer, cosineEpochs, etaMin);
        return new SequentialLR(optimizer, List.of(warmup, cosine), new int[] {warmupEpochs});
    }

    private static void checkMilestones(int[] milestones, int schedulers) {
        if (milestones.length != schedulers - 1) {
            throw new IllegalArgumentException("SequentialLR expects one milestone fewer than schedulers, but got "
                    + schedulers + " schedulers and " + milestones.length + " milestones");
        }
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] <= 0 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                throw new IllegalArgumentException("SequentialLR milestones must be positive and increasing, got "
                        + Arrays.toString(milestones));
            }
        }
    }

    @Override
    public void step() {
        setLastEpoch(lastEpoch() + 1);
        int idx = bisectRight(milestones, lastEpoch());
        LRScheduler s = schedulers.get(idx);
        if (idx > 0 && milestones[idx - 1] == lastEpoch()) {
            s.stepToEpoch(0);
        } else {
            s.step();
        }
        setLastLr(s.getLastLr());
    }

    /** The number of milestones at or before {@code epoch}: Python's {@code bisect_right}. */
    private static int bisectRight(int[] sorted, int epoch) {
        int i = 0;
        while (i < sorted.length && sorted[i] <= epoch) {
            i++;
        }
        return i;
    }

    /** Not used: {@link #step()} delegates to the scheduler in charge (PyTorch's SequentialLR has no get_lr either). */
    @Override
    protected double[] computeLr() {
        throw new UnsupportedOperationException("SequentialLR delegates to its schedulers");
    }

    public List<LRScheduler> schedulers() {
        return schedulers;
    }

    /** Adds the milestones and each scheduler's state under {@code schedulers.<i>.}. */
    @Override
    protected void saveSettings(Map<String, String> out) {
        List<String> ms = new ArrayList<>();
        for (int m : milestones) {
            ms.add(Integer.toString(m));
        }
        out.put("milestones", String.join(",", ms));
        out.put("schedulers", Integer.toString(schedulers.size()));
        for (int i = 0; i < schedulers.size(); i++) {
            String prefix = "schedulers." + i + ".";
            schedulers.get(i).stateDict().forEach((k, v) -> out.put(prefix + k, v));
        }
    }

    @Override
    protected void loadSettings(Map<String, String> in) {
        int n = parseInt(in, "schedulers");
        if (n != schedulers.size()) {
            throw new IllegalArgumentException("the scheduler state has " + n + " schedulers but this SequentialLR has "
                    + schedulers.size());
        }
        int[] ms = parseInts(in, "milestones");
        checkMilestones(ms, n);
        List<Map<String, String>> backups = new ArrayList<>();
        for (LRScheduler s : schedulers) {
            backups.add(s.stateDict());
        }
        try {
            for (int i = 0; i < n; i++) {
                schedulers.get(i).loadStateDict(LRScheduler.select(in, "schedulers." + i + "."));
            }
        } catch (RuntimeException e) {
            // Keep the whole load all-or-nothing: put back the schedulers already loaded.
            for (int i = 0; i < n; i++) {
                schedulers.get(i).loadStateDict(backups.get(i));
            }
            throw e;
        }
        milestones = ms;
    }
}
