package io.sparkgrad.optim;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.DeviceCheck;
import io.sparkgrad.backend.SgdStep;
import io.sparkgrad.backend.opencl.ClOptimizers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, weight decay
 * and maximization: {@code torch.optim.SGD} of PyTorch 1.13, elementwise, with
 * {@code g} the gradient, {@code p} the parameter and {@code b} the momentum buffer:
 *
 * <pre>
 * g = maximize ? -grad : grad
 * if weight_decay != 0:  g = g + weight_decay * p
 * if momentum != 0:
 *     b = (first step) ? g : momentum * b + (1 - dampening) * g
 *     g = nesterov ? g + momentum * b : b
 * p = p - lr * g
 * </pre>
 *
 * Note PyTorch's form of momentum: the learning rate multiplies the buffer, not the gradient
 * going into it. The buffer is state {@code "momentum_buffer"}, kept only when momentum is used.
 */
public final class SGD extends Optimizer {
    private static final Map<String, Object> DEFAULTS = classDefaults();

    /** {@code new SGD(params, lr)}: plain SGD. */
    public SGD(List<? extends Tensor> params, double lr) {
        this(params, new Options().lr(lr));
    }

    public SGD(List<? extends Tensor> params, Options options) {
        this(options, oneGroup(params));
    }

    /** Several parameter groups; options a group does not set come from {@code options}. */
    public SGD(Options options, List<ParamGroup> groups) {
        super("SGD", DEFAULTS, options.values, groups);
    }

    private static Map<String, Object> classDefaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("lr", Double.NaN); // required, as in PyTorch: a group or the options must set it
        d.put("momentum", 0.0);
        d.put("dampening", 0.0);
        d.put("weight_decay", 0.0);
        d.put("nesterov", false);
        d.put("maximize", false);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        if (Double.isNaN(g.lr())) {
            throw new IllegalArgumentException("SGD needs a learning rate: set Options.lr(...) or the group's \"lr\"");
        }
        requireAtLeast(g, "lr", 0);
        requireAtLeast(g, "momentum", 0);
        requireAtLeast(g, "weight_decay", 0);
        if (g.getBoolean("nesterov") && (g.getDouble("momentum") <= 0 || g.getDouble("dampening") != 0)) {
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }
    }

    @Override
    protected Set<String> stateBufferNames() {
        return Set.of("momentum_buffer");
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamState state, ParamGroup group) {
        double lr = group.lr();
        double momentum = group.getDouble("momentum");
        double dampening = group.getDouble("dampening");
        double weightDecay = group.getDouble("weight_decay");
        boolean nesterov = group.getBoolean("nesterov");
        boolean maximize = group.getBoolean("maximize");

        if (DeviceCheck.anyOnDevice(param)
                && ClOptimizers.canUpdate(param, grad, momentum != 0 ? state.buffer("momentum_buffer") : null)) {
            // In place on the device: no host copy of the parameter, gradient or buffer.
            boolean first = momentum != 0 && state.buffer("momentum_buffer") == null;
            Tensor buffer = momentum != 0 ? state.zerosBuffer("momentum_buffer", param) : null;
            ClOptimizers.sgdStep(param, grad, buffer, lr, momentum, dampening, weightDecay, nesterov, maximize, first);
            if (buffer != null) {
                buffer.storage().bumpVersion();
            }
            param.storage().bumpVersion();
            return;
        }
        if (updateFloat32(param, grad, state, lr, momentum, dampening, weightDecay, nesterov, maximize)) {
            return;
        }
        Elements p = Elements.of(param, "parameter");
        Elements d = Elements.of(grad, "gradient");
        Elements b = null;
        boolean first = false;
        if (momentum != 0) {
            first = state.buffer("momentum_buffer") == null;
            b = Elements.of(state.zerosBuffer("momentum_buffer", param), "momentum buffer");
        }
        double keep = 1 - dampening;
        int n = p.size();
        for (int i = 0; i < n; i++) {
            double gi = maximize ? -d.get(i) : d.get(i);
            if (weightDecay != 0) {
                gi = gi + weightDecay * p.get(i);
            }
            if (b != null) {
                // The first step copies the gradient into the buffer (PyTorch's torch.clone(d_p)).
                b.set(i, first ? gi : b.get(i) * momentum + keep * gi);
                double bi = b.get(i); // as stored: float32 state rounds, as in PyTorch
                gi = nesterov ? gi + momentum * bi : bi;
            }
            p.set(i, p.get(i) + -lr * gi);
        }
        p.commit();
        if (b != null) {
            b.commit();
        }
    }

    /** SGD's hyperparameters; those not set keep PyTorch's defaults (the learning rate has none). */
    public static final class Options {
        final Map<String, Object> values = new LinkedHashMap<>();

        public Options lr(double lr) {
            values.put("lr", lr);
            return this;
        }

        public Options momentum(double momentum) {
            values.put("momentum", momentum);
            return this;
        }

        public Options dampening(double dampening) {
            values.put("dampening", dampening);
            return this;
        }

        public Options weightDecay(double weightDecay) {
            values.put("weight_decay", weightDecay);
            return this;
        }

        public Options nesterov(boolean nesterov) {
            values.put("nesterov", nesterov);
            return this;
        }

        public Options maximize(boolean maximize) {
            values.put("maximize", maximize);
            return this;
        }
    }

    /**
     * The same rule in float arithmetic over the arrays, for the common case of contiguous float32
     * parameters and gradients: PyTorch computes float32 updates in float32 too. The JIT does not
     * vectorize the plain loop (it cannot prove the arrays distinct), so the Vector API kernel runs
     * it when present, with the same rounding.
     */
    private static boolean updateFloat32(Tensor param, Tensor grad, ParamState state, double lr, double momentum,
                                         double dampening, double weightDecay, boolean nesterov, boolean maximize) {
        if (param.dtype() != DType.FLOAT32 || grad.dtype() != DType.FLOAT32 || !param.isContiguous()
                || !grad.isContiguous() || param.storage() == grad.storage() || param.storage().onDevice()) {
            return false;
        }
        float[] p = param.storage().floats();
        float[] d = grad.storage().floats();
        int po = param.storageOffset();
        int dOff = grad.storageOffset();
        int n = param.numel();
        float lrF = (float) lr;
        float wd = (float) weightDecay;
        float sign = maximize ? -1f : 1f;
        float mu = (float) momentum;
        float keep = (float) (1 - dampening);
        float[] b = null;
        int bo = 0;
        boolean first = false;
        Tensor buffer = null;
        if (momentum != 0) {
            first = state.buffer("momentum_buffer") == null;
            buffer = state.zerosBuffer("momentum_buffer", param);
            if (!buffer.isContiguous() || buffer.dtype() != DType.FLOAT32) {
                return false;
            }
            b = buffer.storage().floats();
            bo = buffer.storageOffset();
        }
        SgdStep.run(p, po, d, dOff, b, bo, n, lrF, wd, sign, mu, keep, first, nesterov);
        if (buffer != null) {
            buffer.storage().bumpVersion();
        }
        param.storage().bumpVersion();
        return true;
    }
}
