package io.sparkgrad.optim;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The base of every optimizer, as {@code torch.optim.Optimizer}: parameter groups with their own
 * hyperparameters, per-parameter state, {@link #step()}, {@link #zeroGrad()} and a state dict that
 * makes a resumed run continue bit for bit as an uninterrupted one.
 *
 * <pre>{@code
 * Adam opt = new Adam(model.parameters(), new Adam.Options().lr(1e-3));
 * for (Batch b : batches) {
 *     opt.zeroGrad();
 *     lossFn(model.forward(b.x()), b.y()).backward();
 *     opt.step();
 * }
 * }</pre>
 *
 * A step updates, in place and under {@link GradMode#noGrad()}, every parameter whose
 * {@code grad()} is not null; parameters without a gradient, and their state, are left alone.
 * Parameters are tensors: leaves of float32 or float64 (an {@code nn.Parameter} is one). An
 * optimizer is not thread-safe.
 */
public abstract class Optimizer {
    private final String name;
    private final Map<String, Object> defaults;
    private final List<ParamGroup> paramGroups = new ArrayList<>();
    /** Keyed by the parameter itself: tensors compare by identity. */
    private Map<Tensor, ParamState> state = new HashMap<>();

    /**
     * @param name          the optimizer's name, stored in and checked against state dicts
     * @param classDefaults every option the optimizer knows, with its default (PyTorch's signature
     *                      defaults); a required option without a default holds {@code NaN}
     * @param options       the user's overrides of the defaults
     * @param groups        the parameter groups, at least one
     */
    protected Optimizer(String name, Map<String, Object> classDefaults, Map<String, Object> options,
            List<ParamGroup> groups) {
        this.name = name;
        Map<String, Object> d = new LinkedHashMap<>(classDefaults);
        checkKeysAndTypes(options, d, "options");
        d.putAll(options);
        this.defaults = Collections.unmodifiableMap(d);
        if (groups.isEmpty()) {
            throw new IllegalArgumentException(name + " got an empty list of parameter groups");
        }
        for (ParamGroup g : groups) {
            addParamGroup(g);
        }
        if (paramGroups.stream().allMatch(g -> g.params().isEmpty())) {
            throw new IllegalArgumentException(name + " got an empty parameter list");
        }
    }

    /** The single group that the common constructors {@code (params, options)} make. */
    protected static List<ParamGroup> oneGroup(List<? extends Tensor> params) {
        return List.of(ParamGroup.of(params));
    }

    /** Updates one parameter in place from its gradient; called inside no-grad, step count already advanced. */
    protected abstract void update(Tensor param, Tensor grad, ParamState state, ParamGroup group);

    /** Checks a group's options (ranges, combinations); throws {@link IllegalArgumentException} naming the option. */
    protected abstract void validate(ParamGroup group);

    /** The names of the state buffers this optimizer keeps, so a state dict with others is refused. */
    protected abstract Set<String> stateBufferNames();

    // ------------------------------------------------------------------ groups

    /**
     * Adds a group (PyTorch's {@code add_param_group}): options it does not set come from this
     * optimizer's defaults. A parameter may belong to one group only, and must be a float leaf.
     */
    public void addParamGroup(ParamGroup group) {
        checkKeysAndTypes(group.options(), defaults, "param group " + paramGroups.size());
        for (Tensor p : group.params()) {
            if (!p.isLeaf()) {
                throw new IllegalArgumentException(name + " can't optimize a non-leaf tensor (shape "
                        + Shapes.str(p.shape()) + ", output of " + p.gradFn().name() + ")");
            }
            if (!p.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(name + " can only optimize float32 or float64 tensors, not "
                        + p.dtype() + " (shape " + Shapes.str(p.shape()) + ")");
            }
        }
        List<Tensor> seen = new ArrayList<>();
        for (ParamGroup g : paramGroups) {
            seen.addAll(g.params());
        }
        for (Tensor p : group.params()) {
            if (seen.stream().anyMatch(q -> q == p)) {
                throw new IllegalArgumentException(name + ": a parameter (shape " + Shapes.str(p.shape())
                        + ") appears more than once in the parameter groups");
            }
            seen.add(p);
        }
        ParamGroup full = group.copy();
        defaults.forEach((k, v) -> {
            if (!full.has(k)) {
                putOption(full, k, v);
            }
        });
        validate(full);
        paramGroups.add(full);
    }

    /** The groups, with every option filled in; change an option (for example the lr) through them. */
    public List<ParamGroup> paramGroups() {
        return Collections.unmodifiableList(paramGroups);
    }

    /** The defaults: the optimizer's own, overridden by the options it was built with. */
    public Map<String, Object> defaults() {
        return defaults;
    }

    /** The optimizer's name as stored in state dicts, e.g. {@code "Adam"}. */
    public String name() {
        return name;
    }

    /** The state of one parameter, or null before its first update. */
    public ParamState state(Tensor param) {
        return state.get(param);
    }

    // ------------------------------------------------------------------ stepping

    /** One update of every parameter that has a gradient. */
    public void step() {
        try (var g = GradMode.noGrad()) {
            for (ParamGroup group : paramGroups) {
                for (Tensor p : group.params()) {
                    Tensor grad = p.grad();
                    if (grad == null) {
                        continue;
                    }
                    ParamState s = state.computeIfAbsent(p, k -> new ParamState());
                    s.setStep(s.step() + 1);
                    update(p, grad, s, group);
                }
            }
        }
    }

    /** Evaluates {@code closure} (which computes a loss and its gradients) with grad enabled, then steps; returns the loss. */
    public Tensor step(Supplier<Tensor> closure) {
        Tensor loss;
        try (var g = GradMode.enableGrad()) {
            loss = closure.get();
        }
        step();
        return loss;
    }

    /**
     * Zeroes every parameter's gradient in place (PyTorch 1.13's default). The gradient buffers
     * are kept and reused, so the next backward accumulates into them without allocating.
     */
    public void zeroGrad() {
        zeroGrad(false);
    }

    /**
     * With {@code setToNone}, drops the gradients instead ({@code p.grad = None}): the next
     * backward allocates fresh ones, and a parameter that gets no gradient is skipped by
     * {@link #step()} (a zeroed one would still be updated, e.g. by momentum or weight decay).
     */
    public void zeroGrad(boolean setToNone) {
        try (var g = GradMode.noGrad()) {
            for (ParamGroup group : paramGroups) {
                for (Tensor p : group.params()) {
                    Tensor grad = p.grad();
                    if (grad == null) {
                        continue;
                    }
                    if (setToNone) {
                        p.setGrad(null);
                        continue;
                    }
                    if (grad.gradFn() != null) {
                        // A gradient built with createGraph is cut from its graph before it is reused.
                        grad = grad.detach();
                        p.setGrad(grad);
                    } else if (grad.requiresGrad()) {
                        grad.requiresGrad_(false);
                    }
                    grad.zero_();
                }
            }
        }
    }

    // ------------------------------------------------------------------ state dict

    /**
     * A snapshot of the state (copies: later steps do not change it) in the layout described by
     * {@link StateDict}: step counts and buffers as tensors, options as metadata.
     */
    public StateDict stateDict() {
        Map<String, Tensor> tensors = new TreeMap<>();
        Map<String, String> meta = new TreeMap<>();
        meta.put("optimizer", name);
        meta.put("param_groups", Integer.toString(paramGroups.size()));
        int index = 0;
        try (var g = GradMode.noGrad()) {
            for (int gi = 0; gi < paramGroups.size(); gi++) {
                ParamGroup group = paramGroups.get(gi);
                List<String> ids = new ArrayList<>();
                for (Tensor p : group.params()) {
                    ParamState s = state.get(p);
                    if (s != null) {
                        tensors.put("state." + index + ".step", Tensor.of(new long[] {s.step()}, new int[0]));
                        for (Map.Entry<String, Tensor> b : s.buffers().entrySet()) {
                            tensors.put("state." + index + "." + b.getKey(), b.getValue().clone());
                        }
                    }
                    ids.add(Integer.toString(index++));
                }
                meta.put("param_groups." + gi + ".params", String.join(",", ids));
                for (Map.Entry<String, Object> o : group.options().entrySet()) {
                    meta.put("param_groups." + gi + "." + o.getKey(), o.getValue().toString());
                }
            }
        }
        return new StateDict(tensors, meta);
    }

    /**
     * Restores options and state from {@link #stateDict()} output (of an optimizer of the same
     * kind over parameters of the same shapes, grouped the same way). Saved parameters are
     * matched to this optimizer's by position, as PyTorch does. Buffers are copied (converted to
     * the parameter's dtype). Everything is checked before anything changes: on error the
     * optimizer is as it was, and the message names the offending key.
     */
    public void loadStateDict(StateDict sd) {
        Map<String, String> meta = sd.metadata();
        String saved = meta.get("optimizer");
        if (!name.equals(saved)) {
            throw new IllegalArgumentException("the state dict is for optimizer " + saved + ", not " + name);
        }
        int groups = parseInt(meta, "param_groups");
        if (groups != paramGroups.size()) {
            throw new IllegalArgumentException("the state dict has " + groups + " parameter groups but " + name
                    + " has " + paramGroups.size());
        }
        List<Tensor> byIndex = new ArrayList<>();
        List<Map<String, Object>> newOptions = new ArrayList<>();
        for (int gi = 0; gi < groups; gi++) {
            ParamGroup group = paramGroups.get(gi);
            String key = "param_groups." + gi + ".params";
            int[] ids = parseIds(meta, key);
            if (ids.length != group.params().size()) {
                throw new IllegalArgumentException(key + " lists " + ids.length + " parameters but group " + gi
                        + " has " + group.params().size());
            }
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] != byIndex.size()) {
                    throw new IllegalArgumentException(key + " = " + meta.get(key) + ": expected parameters numbered "
                            + "in order from " + (byIndex.size() - i));
                }
                byIndex.add(group.params().get(i));
            }
            newOptions.add(parseOptions(meta, gi, group));
        }
        for (String key : meta.keySet()) {
            if (!key.equals("optimizer") && !key.equals("param_groups") && !isGroupKey(key, groups)) {
                throw new IllegalArgumentException("unexpected metadata key in the state dict: " + key);
            }
        }
        Map<Tensor, ParamState> newState = parseState(sd.tensors(), byIndex);
        for (int gi = 0; gi < groups; gi++) {
            paramGroups.get(gi).replaceOptions(newOptions.get(gi));
        }
        state = newState;
    }

    private Map<String, Object> parseOptions(Map<String, String> meta, int gi, ParamGroup group) {
        String prefix = "param_groups." + gi + ".";
        Map<String, Object> parsed = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (!e.getKey().startsWith(prefix) || e.getKey().equals(prefix + "params")) {
                continue;
            }
            String v = e.getValue();
            if (v.equals("true") || v.equals("false")) {
                parsed.put(e.getKey().substring(prefix.length()), Boolean.parseBoolean(v));
            } else {
                try {
                    parsed.put(e.getKey().substring(prefix.length()), Double.parseDouble(v));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException(e.getKey() + " = \"" + v + "\" is neither a number nor a boolean");
                }
            }
        }
        checkKeysAndTypes(parsed, defaults, "state dict param group " + gi);
        Map<String, Object> merged = new LinkedHashMap<>(group.options());
        merged.putAll(parsed);
        ParamGroup check = ParamGroup.of(group.params());
        merged.forEach((k, v) -> putOption(check, k, v));
        validate(check);
        return merged;
    }

    private Map<Tensor, ParamState> parseState(Map<String, Tensor> tensors, List<Tensor> byIndex) {
        Map<Tensor, ParamState> out = new HashMap<>();
        Set<String> buffers = stateBufferNames();
        try (var g = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String key = e.getKey();
                String[] parts = key.split("\\.", 3);
                int index = parts.length == 3 && parts[0].equals("state") ? parseIndex(parts[1]) : -1;
                if (index < 0 || index >= byIndex.size()) {
                    throw new IllegalArgumentException("unexpected tensor in the state dict: " + key + " (" + name
                            + " has parameters 0.." + (byIndex.size() - 1) + ")");
                }
                Tensor p = byIndex.get(index);
                Tensor t = e.getValue();
                ParamState s = out.computeIfAbsent(p, k -> new ParamState());
                if (parts[2].equals("step")) {
                    if (t.numel() != 1 || t.dtype() != DType.INT64 || t.item() < 0) {
                        throw new IllegalArgumentException(key + " must be a non-negative int64 scalar, got " + t.dtype()
                                + " of shape " + Shapes.str(t.shape()));
                    }
                    s.setStep(t.toLongArray()[0]);
                } else if (buffers.contains(parts[2])) {
                    if (!Arrays.equals(t.shape(), p.shape()) || !t.dtype().isFloatingPoint()) {
                        throw new IllegalArgumentException(key + " has shape " + Shapes.str(t.shape()) + " and dtype "
                                + t.dtype() + " but parameter " + index + " has shape " + Shapes.str(p.shape()));
                    }
                    s.putBuffer(parts[2], Tensor.zeros(p.dtype(), p.shape()).copy_(t));
                } else {
                    throw new IllegalArgumentException("unexpected tensor in the state dict: " + key + " (" + name
                            + " keeps " + buffers + " and step)");
                }
            }
        }
        return out;
    }

    private static boolean isGroupKey(String key, int groups) {
        String[] parts = key.split("\\.", 3);
        if (parts.length != 3 || !parts[0].equals("param_groups")) {
            return false;
        }
        int gi = parseIndex(parts[1]);
        return gi >= 0 && gi < groups;
    }

    private static int parseIndex(String s) {
        try {
            return s.isEmpty() || s.charAt(0) == '+' ? -1 : Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int parseInt(Map<String, String> meta, String key) {
        String v = meta.get(key);
        int n = v == null ? -1 : parseIndex(v);
        if (n < 0) {
            throw new IllegalArgumentException("the state dict's metadata " + key + " = " + v
                    + " is not a non-negative integer");
        }
        return n;
    }

    private static int[] parseIds(Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) {
            throw new IllegalArgumentException("the state dict's metadata has no " + key);
        }
        if (v.isEmpty()) {
            return new int[0];
        }
        String[] parts = v.split(",", -1);
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            ids[i] = parseIndex(parts[i]);
            if (ids[i] < 0) {
                throw new IllegalArgumentException(key + " = " + v + " is not a list of parameter numbers");
            }
        }
        return ids;
    }

    // ------------------------------------------------------------------ options

    /** Every key must be a known option (or {@code initial_lr}, which schedulers add) of the default's type. */
    private void checkKeysAndTypes(Map<String, Object> options, Map<String, Object> known, String where) {
        for (Map.Entry<String, Object> e : options.entrySet()) {
            String key = e.getKey();
            Object expected = key.equals("initial_lr") ? Double.valueOf(0) : known.get(key);
            if (expected == null) {
                throw new IllegalArgumentException(name + " has no option \"" + key + "\" (in " + where
                        + "); its options are " + known.keySet());
            }
            if (expected.getClass() != e.getValue().getClass()) {
                throw new IllegalArgumentException(name + " option \"" + key + "\" (in " + where + ") must be a "
                        + (expected instanceof Boolean ? "boolean" : "number") + ", got " + e.getValue());
            }
        }
    }

    private static void putOption(ParamGroup g, String key, Object value) {
        if (value instanceof Boolean) {
            g.set(key, (Boolean) value);
        } else {
            g.set(key, (Double) value);
        }
    }

    /** For {@link #validate}: {@code group[key] >= min}, else an error in PyTorch's words. */
    protected static void requireAtLeast(ParamGroup group, String key, double min) {
        double v = group.getDouble(key);
        if (!(v >= min)) {
            throw new IllegalArgumentException("Invalid " + key + " value: " + v + " (must be >= " + min + ")");
        }
    }

    /** For {@link #validate}: {@code 0 <= group[key] < 1}. */
    protected static void requireFraction(ParamGroup group, String key) {
        double v = group.getDouble(key);
        if (!(v >= 0 && v < 1)) {
            throw new IllegalArgumentException("Invalid " + key + " value: " + v + " (must be in [0, 1))");
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" (");
        for (int i = 0; i < paramGroups.size(); i++) {
            sb.append("\nParameter Group ").append(i);
            for (Map.Entry<String, Object> e : new TreeMap<>(paramGroups.get(i).options()).entrySet()) {
                sb.append("\n    ").append(e.getKey()).append(": ").append(e.getValue());
            }
        }
        return sb.append("\n)").toString();
    }
}
