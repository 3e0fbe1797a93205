package io.sparkgrad;

import io.sparkgrad.autograd.Autograd;
import io.sparkgrad.autograd.GradMode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * PyTorch's {@code gradcheck} for Sparkgrad: the analytic vector-Jacobian product that backward
 * computes is compared, element by element, with central finite differences in float64.
 *
 * <p>For a function {@code f} and a random upstream gradient {@code g} of f's output shape, the
 * analytic side is {@code Autograd.grad(f(x), x, g)}; the numeric side is
 * {@code Σ_j (f(x + eps·e_i) - f(x - eps·e_i))_j · g_j / (2 eps)} for every element {@code i} of
 * every differentiable input. They must agree within {@code atol + rtol·|numeric|}.
 *
 * <pre>{@code
 * GradCheck.of("mul").check(in -> in.get(0).mul(in.get(1)), a, b);
 * GradCheck.of("tanh").checkSecondOrder(in -> in.get(0).tanh(), x);
 * }</pre>
 *
 * <p>Inputs keep their layout: a transposed, step-sliced or expanded float64 input reaches
 * {@code f} as a leaf with the same shape, strides and offset (over a private copy of its storage,
 * so the caller's tensor is never marked or changed). Perturbing "an element" means perturbing
 * one storage element through the view; when a view aliases that element at several positions
 * (an expanded input), its numeric derivative is compared with the sum of the analytic gradients
 * at all those positions. int64 inputs (indices, class targets) are passed through and never
 * differentiated; float64 inputs listed in {@link #constant} are passed through as well.
 */
public final class GradCheck {
    public static final double DEFAULT_EPS = 1e-6;
    public static final double DEFAULT_ATOL = 1e-6;
    public static final double DEFAULT_RTOL = 1e-5;
    /** At most this many mismatching elements are listed in a failure message. */
    private static final int MAX_REPORTED = 8;

    private final String op;
    private double eps = DEFAULT_EPS;
    private double atol = DEFAULT_ATOL;
    private double rtol = DEFAULT_RTOL;
    private long seed = 0x6AD;
    private final Set<Integer> constant = new HashSet<>();

    private GradCheck(String op) {
        this.op = op;
    }

    /** A check named {@code op} (the name appears in every failure message) with the default settings. */
    public static GradCheck of(String op) {
        return new GradCheck(op);
    }

    /** Shorthand for {@code of(op).check(f, inputs)}. */
    public static void gradcheck(String op, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        of(op).check(f, inputs);
    }

    /** Shorthand for {@code of(op).checkSecondOrder(f, inputs)}. */
    public static void gradgradcheck(String op, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        of(op).checkSecondOrder(f, inputs);
    }

    /** The finite-difference step (a power of two makes the step itself exact). */
    public GradCheck eps(double value) {
        this.eps = value;
        return this;
    }

    public GradCheck atol(double value) {
        this.atol = value;
        return this;
    }

    public GradCheck rtol(double value) {
        this.rtol = value;
        return this;
    }

    /** Seed of the random upstream gradient. */
    public GradCheck seed(long value) {
        this.seed = value;
        return this;
    }

    /** float64 inputs at these positions are passed to {@code f} but not differentiated (class weights, say). */
    public GradCheck constant(int... inputIndices) {
        for (int i : inputIndices) {
            constant.add(i);
        }
        return this;
    }

    /**
     * Checks the first derivative of {@code f} with respect to every float64 input that is not
     * {@link #constant}.
     *
     * @throws AssertionError naming the op, input, element, analytic and numeric values on a mismatch
     */
    public void check(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Tensor> leaves = prepare(inputs);
        Tensor out = f.apply(leaves);
        requireFloat64Output(out);
        Tensor g = Tensor.randn(DType.FLOAT64, new Generator(seed), out.shape());

        List<Integer> diff = differentiable(inputs);
        Tensor[] analytic = analytic(out, leaves, diff, g);
        Tensor[] again = analytic(f.apply(leaves), leaves, diff, g);
        for (int k = 0; k < diff.size(); k++) {
            if (!Arrays.equals(analytic[k].toDoubleArray(), again[k].toDoubleArray())) {
                throw new AssertionError(op + ": backward is not deterministic for input " + diff.get(k)
                        + ": two passes over the same values gave different gradients");
            }
        }

        double[] gv = g.toDoubleArray();
        StringBuilder report = new StringBuilder();
        int mismatches = 0;
        int compared = 0;
        for (int k = 0; k < diff.size(); k++) {
            int input = diff.get(k);
            Tensor leaf = leaves.get(input);
            double[] grad = analytic[k].toDoubleArray();
            double[] data = leaf.storage().doubles();
            for (Map.Entry<Integer, List<Integer>> e : aliases(leaf).entrySet()) {
                int slot = e.getKey();
                double a = 0;
                for (int viewIndex : e.getValue()) {
                    a += grad[viewIndex];
                }
                double original = data[slot];
                data[slot] = original + eps;
                double[] plus = evaluate(f, leaves);
                data[slot] = original - eps;
                double[] minus = evaluate(f, leaves);
                data[slot] = original;
                double n = 0;
                for (int j = 0; j < gv.length; j++) {
                    n += (plus[j] - minus[j]) * gv[j];
                }
                n /= 2 * eps;
                compared++;
                if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) {
                    if (mismatches < MAX_REPORTED) {
                        int first = e.getValue().get(0);
                        report.append(String.format("%n  input %d, element %s (flat %d%s): analytic %.10g, numeric %.10g, "
                                        + "difference %.3g > %.3g",
                                input, Arrays.toString(unravel(first, leaf.shape())), first,
                                e.getValue().size() > 1 ? ", storage " + slot + " seen at " + e.getValue().size()
                                        + " positions" : "",
                                a, n, Math.abs(a - n), atol + rtol * Math.abs(n)));
                    }
                    mismatches++;
                }
            }
        }
        if (mismatches > 0) {
            throw new AssertionError(op + ": analytic gradient differs from finite differences at " + mismatches
                    + " of " + compared + " elements (eps " + eps + ", atol " + atol + ", rtol " + rtol + "):"
                    + report + (mismatches > MAX_REPORTED ? "\n  …" : ""));
        }
    }

    /**
     * Checks second derivatives: the first gradient, computed with {@code createGraph=true} for a
     * random upstream gradient {@code g} (itself an input), is differentiated again and compared
     * with finite differences of the first gradient ({@code gradgradcheck}).
     */
    public void checkSecondOrder(Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        Tensor[] extended = withUpstream(f, inputs);
        GradCheck second = of(op + " (second order)").eps(eps).atol(atol).rtol(rtol).seed(seed);
        second.constant.addAll(constant);
        second.check(firstGradient(f, inputs.length), extended);
    }

    /**
     * Runs the case forward and backward (upstream gradient seeded as in {@link #check}) on the CPU
     * and again with every input on {@code device}, in the same layout (strides, offset and
     * aliasing kept over a device copy of its storage), and requires the device's output and the
     * gradient of every differentiable input to stay on the device and to agree with the CPU's
     * within {@code tol + tol·|cpu|} (NaN matches NaN). Backend suites use this instead of finite
     * differences.
     */
    public void checkOnDevice(Device device, double tol, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        List<Integer> diff = differentiable(inputs);
        List<Tensor> cpuLeaves = prepare(inputs);
        Tensor cpuOut = f.apply(cpuLeaves);
        requireFloat64Output(cpuOut);
        Tensor g = Tensor.randn(DType.FLOAT64, new Generator(seed), cpuOut.shape());
        Tensor[] cpuGrads = analytic(cpuOut, cpuLeaves, diff, g);

        List<Tensor> devLeaves = new ArrayList<>(inputs.length);
        for (Tensor leaf : cpuLeaves) {
            Storage whole = leaf.storage();
            int length = leaf.dtype() == DType.FLOAT64 ? whole.doubles().length : whole.longs().length;
            Tensor copy = Tensor.view(whole, new int[] {length}, new int[] {1}, 0).detach().to(device);
            Tensor devLeaf = Tensor.view(copy.storage(), leaf.shape(), leaf.stride(), leaf.storageOffset());
            if (leaf.requiresGrad()) {
                devLeaf.requiresGrad_();
            }
            devLeaves.add(devLeaf);
        }
        Tensor devOut = f.apply(devLeaves);
        if (!device.equals(devOut.device())) {
            throw new AssertionError(op + ": output is on " + devOut.device() + ", inputs on " + device);
        }
        compare("output", cpuOut, devOut, tol);
        Tensor[] devGrads = analytic(devOut, devLeaves, diff, g.to(device));
        for (int k = 0; k < diff.size(); k++) {
            if (!device.equals(devGrads[k].device())) {
                throw new AssertionError(op + ": gradient of input " + diff.get(k) + " is on " + devGrads[k].device());
            }
            compare("gradient of input " + diff.get(k), cpuGrads[k], devGrads[k], tol);
        }
    }

    /** {@link #checkOnDevice} for the first gradient (with its graph) as a function of the inputs and g. */
    public void checkSecondOrderOnDevice(Device device, double tol, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        GradCheck second = of(op + " (second order)").seed(seed);
        second.constant.addAll(constant);
        second.checkOnDevice(device, tol, firstGradient(f, inputs.length), withUpstream(f, inputs));
    }

    private void compare(String what, Tensor cpu, Tensor dev, double tol) {
        if (!Arrays.equals(cpu.shape(), dev.shape())) {
            throw new AssertionError(op + ": " + what + " has shape " + Shapes.str(dev.shape()) + " on the device, "
                    + Shapes.str(cpu.shape()) + " on the CPU");
        }
        double[] e = cpu.toDoubleArray();
        double[] a = dev.cpu().toDoubleArray();
        StringBuilder report = new StringBuilder();
        int mismatches = 0;
        for (int i = 0; i < e.length; i++) {
            boolean ok = Math.abs(a[i] - e[i]) <= tol + tol * Math.abs(e[i]) || (Double.isNaN(e[i]) && Double.isNaN(a[i]))
                    || (Double.isInfinite(e[i]) && e[i] == a[i]);
            if (!ok) {
                if (mismatches < MAX_REPORTED) {
                    report.append(String.format("%n  element %s (flat %d): device %.12g, CPU %.12g",
                            Arrays.toString(unravel(i, cpu.shape())), i, a[i], e[i]));
                }
                mismatches++;
            }
        }
        if (mismatches > 0) {
            throw new AssertionError(op + ": " + what + " differs from the CPU's at " + mismatches + " of " + e.length
                    + " elements (tolerance " + tol + "):" + report + (mismatches > MAX_REPORTED ? "\n  …" : ""));
        }
    }

    /** The inputs followed by a seeded random upstream gradient of f's output shape. */
    private Tensor[] withUpstream(Function<List<Tensor>, Tensor> f, Tensor[] inputs) {
        Tensor probe;
        try (var noGrad = GradMode.noGrad()) {
            probe = f.apply(prepare(inputs));
        }
        requireFloat64Output(probe);
        Tensor g = Tensor.randn(DType.FLOAT64, new Generator(seed ^ 0x5EC0D), probe.shape());
        Tensor[] extended = Arrays.copyOf(inputs, inputs.length + 1);
        extended[inputs.length] = g;
        return extended;
    }

    /** The flattened first gradient of f (with its graph), as a function of f's inputs and the upstream gradient. */
    private static Function<List<Tensor>, Tensor> firstGradient(Function<List<Tensor>, Tensor> f, int arity) {
        return in -> {
            try (var enable = GradMode.enableGrad()) {
                List<Tensor> xs = in.subList(0, arity);
                Tensor gOut = in.get(arity);
                List<Tensor> wrt = new ArrayList<>();
                for (Tensor x : xs) {
                    if (x.requiresGrad()) {
                        wrt.add(x);
                    }
                }
                Tensor out = f.apply(xs);
                List<Tensor> grads = out.requiresGrad()
                        ? Autograd.grad(List.of(out), wrt, List.of(gOut), true, true, true)
                        : new ArrayList<>(java.util.Collections.nCopies(wrt.size(), (Tensor) null));
                List<Tensor> flat = new ArrayList<>();
                for (int i = 0; i < wrt.size(); i++) {
                    Tensor gi = grads.get(i) == null
                            ? Tensor.zeros(DType.FLOAT64, wrt.get(i).shape()).to(wrt.get(i).device()) : grads.get(i);
                    flat.add(gi.reshape(-1));
                }
                return Tensor.cat(flat, 0);
            }
        };
    }

    // ------------------------------------------------------------------ internals

    /** Leaves with the inputs' layouts over private copies of their storage; float64 ones marked for grad. */
    private List<Tensor> prepare(Tensor[] inputs) {
        List<Tensor> leaves = new ArrayList<>(inputs.length);
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            Storage copy;
            switch (t.dtype()) {
                case FLOAT64:
                    copy = Storage.wrap(t.storage().doubles().clone());
                    break;
                case INT64:
                    copy = Storage.wrap(t.storage().longs().clone());
                    break;
                default:
                    throw new IllegalArgumentException(op + ": input " + i + " is " + t.dtype() + " of shape "
                            + Shapes.str(t.shape()) + "; gradcheck needs float64 (or int64 index) inputs, "
                            + "float32 is too coarse for finite differences");
            }
            Tensor leaf = Tensor.view(copy, t.shape(), t.stride(), t.storageOffset());
            if (t.dtype() == DType.FLOAT64 && !constant.contains(i)) {
                leaf.requiresGrad_();
            }
            leaves.add(leaf);
        }
        return leaves;
    }

    private List<Integer> differentiable(Tensor[] inputs) {
        List<Integer> diff = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].dtype() == DType.FLOAT64 && !constant.contains(i)) {
                diff.add(i);
            }
        }
        if (diff.isEmpty()) {
            throw new IllegalArgumentException(op + ": no float64 input to differentiate");
        }
        return diff;
    }

    private void requireFloat64Output(Tensor out) {
        if (out.dtype() != DType.FLOAT64) {
            throw new IllegalArgumentException(op + ": the function returned " + out.dtype() + " of shape "
                    + Shapes.str(out.shape()) + "; gradcheck needs a float64 output");
        }
    }

    /** The vector-Jacobian product for every differentiable input; zeros where no gradient arrives. */
    private Tensor[] analytic(Tensor out, List<Tensor> leaves, List<Integer> diff, Tensor g) {
        requireFloat64Output(out);
        List<Tensor> wrt = new ArrayList<>();
        for (int i : diff) {
            wrt.add(leaves.get(i));
        }
        List<Tensor> grads = out.requiresGrad()
                ? Autograd.grad(List.of(out), wrt, List.of(g), false, false, true)
                : java.util.Collections.nCopies(wrt.size(), null);
        Tensor[] result = new Tensor[wrt.size()];
        for (int k = 0; k < wrt.size(); k++) {
            Tensor gk = grads.get(k);
            Tensor x = wrt.get(k);
            if (gk == null) {
                gk = Tensor.zeros(DType.FLOAT64, x.shape()).to(x.device());
            }
            if (!Arrays.equals(gk.shape(), x.shape()) || gk.dtype() != DType.FLOAT64) {
                throw new AssertionError(op + ": gradient of input " + diff.get(k) + " is " + gk.dtype() + " "
                        + Shapes.str(gk.shape()) + " but the input is float64 " + Shapes.str(x.shape()));
            }
            result[k] = gk;
        }
        return result;
    }

    /** {@code f(leaves)} as row-major doubles, without recording a graph. */
    private double[] evaluate(Function<List<Tensor>, Tensor> f, List<Tensor> leaves) {
        try (var noGrad = GradMode.noGrad()) {
            return f.apply(leaves).toDoubleArray();
        }
    }

    /** Storage slot → the row-major positions of the view that read it (more than one where it aliases). */
    private static Map<Integer, List<Integer>> aliases(Tensor view) {
        Map<Integer, List<Integer>> slots = new LinkedHashMap<>();
        int[] shape = view.shape();
        int[] strides = view.stride();
        int n = view.numel();
        for (int flat = 0; flat < n; flat++) {
            int[] idx = unravel(flat, shape);
            int slot = view.storageOffset();
            for (int d = 0; d < idx.length; d++) {
                slot += idx[d] * strides[d];
            }
            slots.computeIfAbsent(slot, s -> new ArrayList<>()).add(flat);
        }
        return slots;
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }
}
