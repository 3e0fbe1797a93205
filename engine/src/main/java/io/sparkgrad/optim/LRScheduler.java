package io.sparkgrad.optim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The base of the learning-rate schedules, as PyTorch 1.13's {@code _LRScheduler}: a scheduler
 * sets every parameter group's {@code "lr"} as a function of the epoch count. Building one sets
 * the epoch-0 rate (and records each group's {@code "initial_lr"}); each {@link #step()}, called
 * after {@code optimizer.step()}, advances one epoch. Schedules use PyTorch's recursive
 * ("chainable") formulas, which start from the groups' current rates, so the values per epoch
 * match PyTorch's to rounding.
 *
 * <p>To resume: build the optimizer and the scheduler as at the start, then
 * {@code optimizer.loadStateDict(...)} and {@code scheduler.loadStateDict(...)}. The scheduler's
 * state is a small string map (store it as safetensors metadata, e.g. under a
 * {@code "scheduler."} prefix); numbers are written with {@link Double#toString(double)} and read
 * back exactly.
 */
public abstract class LRScheduler {
    protected final Optimizer optimizer;
    private double[] baseLrs;
    private int lastEpoch = -1;
    private int stepCount;
    private double[] lastLr;

    /** Attaches to {@code optimizer}; a concrete constructor sets its fields and then calls {@link #initialStep()}. */
    protected LRScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        List<ParamGroup> groups = optimizer.paramGroups();
        baseLrs = new double[groups.size()];
        for (int i = 0; i < baseLrs.length; i++) {
            ParamGroup g = groups.get(i);
            if (!g.has("initial_lr")) {
                g.set("initial_lr", g.lr());
            }
            baseLrs[i] = g.getDouble("initial_lr");
        }
    }

    /**
     * The learning rate of every group for epoch {@link #lastEpoch()}, computed from the groups'
     * current rates (PyTorch's {@code get_lr}).
     */
    protected abstract double[] computeLr();

    /** The same rates from the closed form (PyTorch's {@code _get_closed_form_lr}); used when jumping to an epoch. */
    protected double[] closedFormLr() {
        return computeLr();
    }

    /** Writes the schedule's own settings into a state dict. */
    protected abstract void saveSettings(Map<String, String> out);

    /** Reads them back; parse everything before assigning, so an error leaves the scheduler as it was. */
    protected abstract void loadSettings(Map<String, String> in);

    /** PyTorch's constructor-time step to epoch 0. */
    protected final void initialStep() {
        stepCount = 0;
        step();
    }

    /** Advances one epoch and sets every group's learning rate. */
    public void step() {
        stepCount++;
        lastEpoch++;
        apply(computeLr());
    }

    /** Jumps to {@code epoch} using the closed form (PyTorch's deprecated {@code step(epoch)}; {@link SequentialLR} uses it). */
    void stepToEpoch(int epoch) {
        stepCount++;
        lastEpoch = epoch;
        apply(closedFormLr());
    }

    private void apply(double[] lrs) {
        List<ParamGroup> groups = optimizer.paramGroups();
        if (lrs.length != groups.size()) {
            throw new IllegalStateException(getClass().getSimpleName() + " was built for " + lrs.length
                    + " parameter groups but the optimizer now has " + groups.size());
        }
        for (int i = 0; i < lrs.length; i++) {
            groups.get(i).setLr(lrs[i]);
        }
        lastLr = lrs.clone();
    }

    /** The rates set by the last step, one per group (PyTorch's {@code get_last_lr()}). */
    public double[] getLastLr() {
        return lastLr.clone();
    }

    /** The epoch count: 0 after construction, +1 per {@link #step()}. */
    public int lastEpoch() {
        return lastEpoch;
    }

    /** Each group's {@code "initial_lr"} when the scheduler was built. */
    public double[] baseLrs() {
        return baseLrs.clone();
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** For subclasses: the groups' current learning rates. */
    protected final double[] currentLrs() {
        List<ParamGroup> groups = optimizer.paramGroups();
        double[] lrs = new double[groups.size()];
        for (int i = 0; i < lrs.length; i++) {
            lrs[i] = groups.get(i).lr();
        }
        return lrs;
    }

    /** For {@link SequentialLR}, which rewinds its schedulers when it takes them over. */
    void setLastEpoch(int epoch) {
        lastEpoch = epoch;
    }

    /** For {@link SequentialLR}, whose last rates are those of the scheduler it delegated to. */
    void setLastLr(double[] lrs) {
        lastLr = lrs.clone();
    }

    /** PyTorch counts steps to detect the first one; CosineAnnealingLR reads it. */
    protected final int stepCount() {
        return stepCount;
    }

    /** The scheduler's state: its type, counters, base and last rates, and its settings. */
    public Map<String, String> stateDict() {
        Map<String, String> out = new TreeMap<>();
        out.put("type", getClass().getSimpleName());
        out.put("last_epoch", Integer.toString(lastEpoch));
        out.put("step_count", Integer.toString(stepCount));
        out.put("base_lrs", join(baseLrs));
        out.put("last_lr", join(lastLr));
        saveSettings(out);
        return out;
    }

    /** Restores {@link #stateDict()} output of the same kind of scheduler, settings included (as PyTorch). */
    public void loadStateDict(Map<String, String> in) {
        String type = in.get("type");
        if (!getClass().getSimpleName().equals(type)) {
            throw new IllegalArgumentException("the scheduler state is for " + type + ", not "
                    + getClass().getSimpleName());
        }
        int epoch = parseInt(in, "last_epoch");
        int steps = parseInt(in, "step_count");
        double[] base = parseDoubles(in, "base_lrs");
        double[] last = parseDoubles(in, "last_lr");
        if (base.length != baseLrs.length || last.length != baseLrs.length) {
            throw new IllegalArgumentException("the scheduler state has rates for " + base.length
                    + " parameter groups but the optimizer has " + baseLrs.length);
        }
        loadSettings(in);
        lastEpoch = epoch;
        stepCount = steps;
        baseLrs = base;
        lastLr = last;
    }

    // ------------------------------------------------------------------ parsing helpers for subclasses

    static String join(double[] values) {
        List<String> parts = new ArrayList<>();
        for (double v : values) {
            parts.add(Double.toString(v));
        }
        return String.join(",", parts);
    }

    protected static String require(Map<String, String> in, String key) {
        String v = in.get(key);
        if (v == null) {
            throw new IllegalArgumentException("the scheduler state has no \"" + key + "\"");
        }
        return v;
    }

    protected static int parseInt(Map<String, String> in, String key) {
        String v = require(in, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler state \"" + key + "\" = \"" + v + "\" is not an integer");
        }
    }

    protected static double parseDouble(Map<String, String> in, String key) {
        String v = require(in, key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler state \"" + key + "\" = \"" + v + "\" is not a number");
        }
    }

    /** The entries whose keys start with {@code prefix}, with the prefix taken off. */
    static Map<String, String> select(Map<String, String> in, String prefix) {
        Map<String, String> out = new TreeMap<>();
        in.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }

    static int[] parseInts(Map<String, String> in, String key) {
        String v = require(in, key);
        if (v.isEmpty()) {
            return new int[0];
        }
        try {
            return Arrays.stream(v.split(",", -1)).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler state \"" + key + "\" = \"" + v + "\" is not a list of integers");
        }
    }

    static double[] parseDoubles(Map<String, String> in, String key) {
        String v = require(in, key);
        if (v.isEmpty()) {
            return new double[0];
        }
        try {
            return Arrays.stream(v.split(",", -1)).mapToDouble(Double::parseDouble).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scheduler state \"" + key + "\" = \"" + v + "\" is not a list of numbers");
        }
    }
}
