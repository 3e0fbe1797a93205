package io.sparkgrad.optim;

import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters that share hyperparameters, as one entry of PyTorch's {@code optimizer.param_groups}.
 * Options are named as in PyTorch ({@code "lr"}, {@code "momentum"}, {@code "weight_decay"},
 * {@code "amsgrad"}, …; Adam's {@code betas} pair is {@code "beta1"} and {@code "beta2"}) and hold
 * a number or a boolean. A group built by the user carries only its overrides; the optimizer
 * copies it and fills in its defaults, and {@link Optimizer#paramGroups()} returns those full
 * groups, whose options (the learning rate above all) may be changed between steps.
 *
 * <pre>{@code
 * SGD opt = new SGD(new SGD.Options().lr(0.1).momentum(0.9), List.of(
 *         ParamGroup.of(backbone.parameters()),
 *         ParamGroup.of(head.parameters()).set("lr", 0.01)));
 * }</pre>
 */
public final class ParamGroup {
    private final List<Tensor> params;
    private final Map<String, Object> options;

    private ParamGroup(List<Tensor> params, Map<String, Object> options) {
        this.params = Collections.unmodifiableList(params);
        this.options = options;
    }

    /** A group of {@code params} with no overrides: every option comes from the optimizer's defaults. */
    public static ParamGroup of(List<? extends Tensor> params) {
        return new ParamGroup(new ArrayList<>(params), new LinkedHashMap<>());
    }

    /** Sets a numeric option (for example {@code "lr"}); returns this group. */
    public ParamGroup set(String key, double value) {
        options.put(key, value);
        return this;
    }

    /** Sets a boolean option (for example {@code "nesterov"}); returns this group. */
    public ParamGroup set(String key, boolean value) {
        options.put(key, value);
        return this;
    }

    public List<Tensor> params() {
        return params;
    }

    /** The learning rate, {@code group["lr"]}. */
    public double lr() {
        return getDouble("lr");
    }

    public void setLr(double lr) {
        set("lr", lr);
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    public double getDouble(String key) {
        Object v = options.get(key);
        if (!(v instanceof Double)) {
            throw new IllegalArgumentException("param group option \"" + key + "\" is "
                    + (v == null ? "not set" : "a boolean, not a number") + "; options: " + options.keySet());
        }
        return (Double) v;
    }

    public boolean getBoolean(String key) {
        Object v = options.get(key);
        if (!(v instanceof Boolean)) {
            throw new IllegalArgumentException("param group option \"" + key + "\" is "
                    + (v == null ? "not set" : "a number, not a boolean") + "; options: " + options.keySet());
        }
        return (Boolean) v;
    }

    /** The options, read-only, in the order they were set (defaults after overrides). */
    public Map<String, Object> options() {
        return Collections.unmodifiableMap(options);
    }

    /** A group of the same parameters with a copy of the options. */
    ParamGroup copy() {
        return new ParamGroup(new ArrayList<>(params), new LinkedHashMap<>(options));
    }

    /** Same parameters, options replaced by {@code newOptions} (used when loading a state dict). */
    void replaceOptions(Map<String, Object> newOptions) {
        options.clear();
        options.putAll(newOptions);
    }

    @Override
    public String toString() {
        return "ParamGroup(" + params.size() + " params, " + options + ")";
    }
}
