package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A building block of a network, as {@code torch.nn.Module}: it owns parameters (learned),
 * buffers (state that is saved but not learned, such as BatchNorm's running statistics) and child
 * modules, all registered under names. The names, joined with dots down the tree, are the keys of
 * {@link #stateDict()}, exactly as PyTorch writes them ({@code "0.weight"},
 * {@code "features.1.running_mean"}), so a state dict moves between Sparkgrad and PyTorch.
 *
 * <pre>{@code
 * Module model = new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * Tensor loss = F.crossEntropy(model.apply(x), labels);
 * model.zeroGrad();
 * loss.backward();                 // model.parameters() now hold their .grad
 * }</pre>
 *
 * <p>Subclasses register what they own in their constructor ({@link #registerParameter},
 * {@link #registerBuffer}, {@link #registerModule}) and implement {@link #forward}. Layers read
 * their parameters back by name ({@link #parameter(String)}), so {@link #to(DType)} can replace them.
 * A module is not safe for concurrent use; give each thread its own copy.
 */
public abstract class Module {
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The computation: the output for {@code input}. */
    public abstract Tensor forward(Tensor input);

    /** Runs {@link #forward} (PyTorch's {@code module(x)}). */
    public final Tensor apply(Tensor input) {
        return forward(input);
    }

    // ------------------------------------------------------------------ registration

    /** Registers a learned tensor under {@code name} (a {@code requiresGrad} leaf). */
    protected final Parameter registerParameter(String name, Parameter parameter) {
        checkNewName(name);
        Objects.requireNonNull(parameter, () -> "parameter '" + name + "' is null; leave it unregistered instead");
        parameters.put(name, parameter);
        return parameter;
    }

    /** Registers saved, unlearned state under {@code name}; it is part of {@link #stateDict()}. */
    protected final Tensor registerBuffer(String name, Tensor buffer) {
        checkNewName(name);
        Objects.requireNonNull(buffer, () -> "buffer '" + name + "' is null; leave it unregistered instead");
        if (buffer.requiresGrad()) {
            throw new IllegalArgumentException("buffer '" + name + "' requires grad; register it as a Parameter instead");
        }
        buffers.put(name, buffer);
        return buffer;
    }

    /** Registers a child module under {@code name} (PyTorch's {@code add_module}). */
    protected final <M extends Module> M registerModule(String name, M module) {
        checkNewName(name);
        Objects.requireNonNull(module, () -> "module '" + name + "' is null");
        if (module == this) {
            throw new IllegalArgumentException("a module cannot be its own child ('" + name + "')");
        }
        children.put(name, module);
        return module;
    }

    private void checkNewName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid name \"" + name + "\": names must be non-empty and contain no '.'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " already has something registered as '"
                    + name + "'");
        }
    }

    /** This module's own parameter {@code name}, or null if none is registered under it. */
    protected final Parameter parameter(String name) {
        return parameters.get(name);
    }

    /** This module's own buffer {@code name}, or null if none is registered under it. */
    protected final Tensor buffer(String name) {
        return buffers.get(name);
    }

    // ------------------------------------------------------------------ traversal

    /** Every parameter of this module and its descendants, each once (a shared parameter appears once). */
    public final List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters by dotted name, in registration order depth-first, each shared parameter under its first name. */
    public final LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Module> m : namedModules().entrySet()) {
            for (Map.Entry<String, Parameter> p : m.getValue().parameters.entrySet()) {
                if (seen.add(p.getValue())) {
                    out.put(join(m.getKey(), p.getKey()), p.getValue());
                }
            }
        }
        return out;
    }

    /** Every buffer of this module and its descendants. */
    public final List<Tensor> buffers() {
        return new ArrayList<>(namedBuffers().values());
    }

    public final LinkedHashMap<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Module> m : namedModules().entrySet()) {
            for (Map.Entry<String, Tensor> b : m.getValue().buffers.entrySet()) {
                if (seen.add(b.getValue())) {
                    out.put(join(m.getKey(), b.getKey()), b.getValue());
                }
            }
        }
        return out;
    }

    /** The direct children. */
    public final List<Module> children() {
        return new ArrayList<>(children.values());
    }

    public final LinkedHashMap<String, Module> namedChildren() {
        return new LinkedHashMap<>(children);
    }

    /** This module and all its descendants, depth-first; this one is named {@code ""}. */
    public final LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        Set<Module> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        collectModules("", this, out, seen);
        return out;
    }

    public final List<Module> modules() {
        return new ArrayList<>(namedModules().values());
    }

    private static void collectModules(String prefix, Module m, Map<String, Module> out, Set<Module> seen) {
        if (!seen.add(m)) {
            return;
        }
        out.put(prefix, m);
        for (Map.Entry<String, Module> c : m.children.entrySet()) {
            collectModules(join(prefix, c.getKey()), c.getValue(), out, seen);
        }
    }

    private static String join(String prefix, String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    // ------------------------------------------------------------------ modes and gradients

    /** Sets training mode (dropout active, batch statistics) on this module and every descendant. */
    public Module train(boolean mode) {
        for (Module m : modules()) {
            m.training = mode;
        }
        return this;
    }

    public Module train() {
        return train(true);
    }

    /** Evaluation mode: dropout is the identity, BatchNorm uses its running statistics. */
    public Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /**
     * Sets every parameter's {@code .grad} to zero in place, keeping the buffers, so a training loop
     * allocates no new gradient storage. A gradient that carries a graph (from
     * {@code createGraph=true}) is detached first, as PyTorch's {@code zero_grad(set_to_none=False)}.
     */
    public void zeroGrad() {
        try (var g = GradMode.noGrad()) {
            for (Parameter p : parameters()) {
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                if (grad.requiresGrad()) {
                    grad = grad.detach();
                    p.setGrad(grad);
                }
                grad.zero_();
            }
        }
    }

    /**
     * Converts every floating-point parameter and buffer (and gradient) to {@code dtype}, in this
     * module and its descendants; int64 buffers such as {@code num_batches_tracked} stay int64.
     * Parameters are replaced by new ones (a parameter shared between modules stays shared), so
     * convert a model before handing its parameters to an optimizer. Returns this module.
     */
    public Module to(DType dtype) {
        if (!dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("Module.to: only float32 and float64 are supported, got " + dtype);
        }
        Map<Tensor, Tensor> converted = new IdentityHashMap<>();
        try (var g = GradMode.noGrad()) {
            for (Module m : modules()) {
                for (Map.Entry<String, Parameter> e : m.parameters.entrySet()) {
                    e.setValue((Parameter) converted.computeIfAbsent(e.getValue(), p -> convert((Parameter) p, dtype)));
                }
                for (Map.Entry<String, Tensor> e : m.buffers.entrySet()) {
                    Tensor b = e.getValue();
                    if (b.dtype().isFloatingPoint()) {
                        e.setValue(converted.computeIfAbsent(b, t -> t.to(dtype)));
                    }
                }
            }
        }
        return this;
    }

    /**
     * Moves every parameter and buffer (and gradient) to {@code device}, in this module and its
     * descendants, as {@link #to(DType)} converts them: parameters are replaced by new leaves on
     * the device, so move a model before handing its parameters to an optimizer. Returns this module.
     */
    public Module to(io.sparkgrad.Device device) {
        Map<Tensor, Tensor> moved = new IdentityHashMap<>();
        try (var g = GradMode.noGrad()) {
            for (Module m : modules()) {
                for (Map.Entry<String, Parameter> e : m.parameters.entrySet()) {
                    e.setValue((Parameter) moved.computeIfAbsent(e.getValue(), p -> move((Parameter) p, device)));
                }
                for (Map.Entry<String, Tensor> e : m.buffers.entrySet()) {
                    e.setValue(moved.computeIfAbsent(e.getValue(), t -> t.to(device)));
                }
            }
        }
        return this;
    }

    private static Parameter move(Parameter p, io.sparkgrad.Device device) {
        if (p.device().equals(device)) {
            return p;
        }
        Parameter q = new Parameter(p.detach().to(device), p.requiresGrad());
        if (p.grad() != null) {
            q.setGrad(p.grad().detach().to(device));
        }
        return q;
    }

    private static Parameter convert(Parameter p, DType dtype) {
        if (p.dtype() == dtype) {
            return p;
        }
        Parameter q = new Parameter(p.detach().to(dtype), p.requiresGrad());
        if (p.grad() != null) {
            q.setGrad(p.grad().detach().to(dtype));
        }
        return q;
    }

    // ------------------------------------------------------------------ state dict

    /**
     * Parameters and buffers by PyTorch's dotted key, each module's parameters then its buffers,
     * then its children's. The values share storage with the module's tensors (detached, as
     * PyTorch's), so saving a state dict needs no copy; copy them before changing the model if a
     * snapshot is meant.
     */
    public final LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collectState("", this, out);
        return out;
    }

    /** Unlike {@link #namedModules()}, a module registered twice is saved under both names, as PyTorch does. */
    private static void collectState(String prefix, Module m, Map<String, Tensor> out) {
        for (Map.Entry<String, Parameter> p : m.parameters.entrySet()) {
            out.put(join(prefix, p.getKey()), p.getValue().detach());
        }
        for (Map.Entry<String, Tensor> b : m.buffers.entrySet()) {
            out.put(join(prefix, b.getKey()), b.getValue().detach());
        }
        for (Map.Entry<String, Module> c : m.children.entrySet()) {
            collectState(join(prefix, c.getKey()), c.getValue(), out);
        }
    }

    /** {@link #loadStateDict(Map, boolean)} with {@code strict = true}. */
    public final IncompatibleKeys loadStateDict(Map<String, Tensor> state) {
        return loadStateDict(state, true);
    }

    /**
     * Copies the values of {@code state} into this module's parameters and buffers (in place,
     * converting dtype), as PyTorch's {@code load_state_dict}. Everything is checked before
     * anything is written: a key whose shape differs from the module's is always an error; with
     * {@code strict}, keys the module has but {@code state} lacks (missing) and keys {@code state}
     * has but the module lacks (unexpected) are errors too. One exception lists every problem.
     *
     * @return the missing and unexpected keys (both empty when strict loading succeeds)
     * @throws StateDictException naming all missing, unexpected and mis-shaped keys together
     */
    public final IncompatibleKeys loadStateDict(Map<String, Tensor> state, boolean strict) {
        LinkedHashMap<String, Tensor> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor given = state.get(e.getKey());
            if (given == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(given.shape(), e.getValue().shape())) {
                mismatched.add("size mismatch for " + e.getKey() + ": copying a param with shape "
                        + Shapes.str(given.shape()) + " from checkpoint, the shape in current model is "
                        + Shapes.str(e.getValue().shape()) + ".");
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String key : state.keySet()) {
            if (!own.containsKey(key)) {
                unexpected.add(key);
            }
        }
        if (!mismatched.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw new StateDictException(getClass().getSimpleName(), strict ? missing : List.of(),
                    strict ? unexpected : List.of(), mismatched);
        }
        try (var g = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor given = state.get(e.getKey());
                if (given != null) {
                    e.getValue().copy_(given);
                }
            }
        }
        return new IncompatibleKeys(missing, unexpected);
    }

    // ------------------------------------------------------------------ printing

    /** The arguments shown between the parentheses of {@link #toString()}, e.g. {@code in_features=4, out_features=3, bias=True}. */
    protected String extraRepr() {
        return "";
    }

    /** PyTorch's module printout: the class, its {@link #extraRepr()}, and each child indented. */
    @Override
    public String toString() {
        List<String> lines = new ArrayList<>();
        String extra = extraRepr();
        if (!extra.isEmpty()) {
            lines.addAll(Arrays.asList(extra.split("\n")));
        }
        for (Map.Entry<String, Module> c : children.entrySet()) {
            lines.add("(" + c.getKey() + "): " + c.getValue().toString().replace("\n", "\n  "));
        }
        String name = getClass().getSimpleName();
        if (lines.isEmpty()) {
            return name + "()";
        }
        if (children.isEmpty() && lines.size() == 1) {
            return name + "(" + lines.get(0) + ")";
        }
        return name + "(\n  " + String.join("\n  ", lines) + "\n)";
    }

    /** Python's spelling of a boolean, for {@link #extraRepr()}. */
    static String py(boolean b) {
        return b ? "True" : "False";
    }

    /** Python's {@code repr} of a float ({@code 0.1}, {@code 1e-05}, {@code 2.0}), for {@link #extraRepr()}. */
    static String pyFloat(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return Double.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
        }
        if (v == 0) {
            return 1 / v < 0 ? "-0.0" : "0.0";
        }
        java.math.BigDecimal d = new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros();
        String digits = d.unscaledValue().abs().toString();
        int exponent = digits.length() - d.scale() - 1;
        String sign = v < 0 ? "-" : "";
        if (exponent < -4 || exponent >= 16) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        String plain = d.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }
}
