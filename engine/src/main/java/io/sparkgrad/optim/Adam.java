package io.sparkgrad.optim;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.AdamStep;
import io.sparkgrad.backend.DeviceCheck;
import io.sparkgrad.backend.opencl.ClOptimizers;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adam with optional L2 weight decay, AMSGrad and maximization: {@code torch.optim.Adam} of
 * PyTorch 1.13 (single-tensor implementation), elementwise, at update number {@code t} of the
 * parameter:
 *
 * <pre>
 * g = maximize ? -grad : grad
 * if weight_decay != 0:  g = g + weight_decay * p
 * m = beta1 * m + (1 - beta1) * g                      (state "exp_avg")
 * v = beta2 * v + (1 - beta2) * g * g                  (state "exp_avg_sq")
 * if amsgrad:  vmax = max(vmax, v); v' = vmax          (state "max_exp_avg_sq")
 * denom = sqrt(v') / sqrt(1 - beta2^t) + eps
 * p = p - (lr / (1 - beta1^t)) * m / denom
 * </pre>
 *
 * The weight decay here is added to the gradient, so the moments see it; {@link AdamW} decays
 * the parameter directly instead.
 */
public final class Adam extends Optimizer {
    private static final Map<String, Object> DEFAULTS = classDefaults(0.0);

    public Adam(List<? extends Tensor> params, double lr) {
        this(params, new Options().lr(lr));
    }

    public Adam(List<? extends Tensor> params, Options options) {
        this(options, oneGroup(params));
    }

    /** Several parameter groups; options a group does not set come from {@code options}. */
    public Adam(Options options, List<ParamGroup> groups) {
        super("Adam", DEFAULTS, options.values, groups);
    }

    /** PyTorch's defaults for Adam and AdamW, which differ only in the weight decay. */
    static Map<String, Object> classDefaults(double weightDecay) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-3);
        d.put("beta1", 0.9);
        d.put("beta2", 0.999);
        d.put("eps", 1e-8);
        d.put("weight_decay", weightDecay);
        d.put("amsgrad", false);
        d.put("maximize", false);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        check(g);
    }

    static void check(ParamGroup g) {
        requireAtLeast(g, "lr", 0);
        requireAtLeast(g, "eps", 0);
        requireFraction(g, "beta1");
        requireFraction(g, "beta2");
        requireAtLeast(g, "weight_decay", 0);
    }

    @Override
    protected Set<String> stateBufferNames() {
        return BUFFERS;
    }

    static final Set<String> BUFFERS = Set.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq");

    @Override
    protected void update(Tensor param, Tensor grad, ParamState state, ParamGroup group) {
        update(param, grad, state, group, false);
    }

    /**
     * The Adam update, shared with {@link AdamW}: {@code decoupled} applies the weight decay as
     * {@code p = p * (1 - lr * weight_decay)} before the moments, instead of adding it to the gradient.
     */
    static void update(Tensor param, Tensor grad, ParamState state, ParamGroup group, boolean decoupled) {
        double lr = group.lr();
        double beta1 = group.getDouble("beta1");
        double beta2 = group.getDouble("beta2");
        double eps = group.getDouble("eps");
        double weightDecay = group.getDouble("weight_decay");
        boolean amsgrad = group.getBoolean("amsgrad");
        boolean maximize = group.getBoolean("maximize");

        // Scalars as PyTorch computes them in Python doubles (the step count is a float there too).
        double t = state.step();
        double biasCorrection1 = 1 - Math.pow(beta1, t);
        double biasCorrection2 = 1 - Math.pow(beta2, t);
        double stepSize = lr / biasCorrection1;
        double biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
        double decay = 1 - lr * weightDecay;

        if (DeviceCheck.anyOnDevice(param) && ClOptimizers.canUpdate(param, grad, state.buffer("exp_avg"),
                state.buffer("exp_avg_sq"), amsgrad ? state.buffer("max_exp_avg_sq") : null)) {
            // In place on the device: no host copy of the parameter, gradient or moments.
            Tensor m = state.zerosBuffer("exp_avg", param);
            Tensor v = state.zerosBuffer("exp_avg_sq", param);
            Tensor vmax = amsgrad ? state.zerosBuffer("max_exp_avg_sq", param) : null;
            ClOptimizers.adamStep(param, grad, m, v, vmax, beta1, beta2, eps, weightDecay, decay, stepSize,
                    biasCorrection2Sqrt, decoupled, maximize);
            for (Tensor updated : new Tensor[] {param, m, v, vmax}) {
                if (updated != null) {
                    updated.storage().bumpVersion();
                }
            }
            return;
        }
        if (updateFloat32(param, grad, state, amsgrad, maximize, decoupled, weightDecay, decay, beta1, beta2, eps,
                stepSize, biasCorrection2Sqrt)) {
            return;
        }
        Elements p = Elements.of(param, "parameter");
        Elements d = Elements.of(grad, "gradient");
        Elements m = Elements.of(state.zerosBuffer("exp_avg", param), "exp_avg");
        Elements v = Elements.of(state.zerosBuffer("exp_avg_sq", param), "exp_avg_sq");
        Elements vmax = amsgrad ? Elements.of(state.zerosBuffer("max_exp_avg_sq", param), "max_exp_avg_sq") : null;
        int n = p.size();
        for (int i = 0; i < n; i++) {
            double gi = maximize ? -d.get(i) : d.get(i);
            double pi = p.get(i);
            if (decoupled) {
                pi = pi * decay;
            } else if (weightDecay != 0) {
                gi = gi + weightDecay * pi;
            }
            double mi = m.get(i) * beta1 + (1 - beta1) * gi;
            // addcmul_(g, g, value=1-beta2) multiplies left to right: ((1 - beta2) * g) * g.
            double vi = v.get(i) * beta2 + (1 - beta2) * gi * gi;
            m.set(i, mi);
            v.set(i, vi);
            // Read back what was stored, so float32 state and PyTorch's float32 math see the same value.
            mi = m.get(i);
            vi = v.get(i);
            if (vmax != null) {
                // Math.max propagates NaN, as torch.maximum does.
                vi = Math.max(vmax.get(i), vi);
                vmax.set(i, vi);
            }
            double denom = Math.sqrt(vi) / biasCorrection2Sqrt + eps;
            // addcdiv_(m, denom, value=-step_size) computes (value * m) / denom.
            p.set(i, pi + -stepSize * mi / denom);
        }
        p.commit();
        m.commit();
        v.commit();
        if (vmax != null) {
            vmax.commit();
        }
    }

    /**
     * The same rule in float arithmetic for contiguous float32 parameters, gradients and moments
     * (PyTorch computes float32 Adam in float32 too): in Vector API lanes when the module is
     * present, else the same loop in {@link AdamStep}. False when a tensor does not qualify.
     */
    private static boolean updateFloat32(Tensor param, Tensor grad, ParamState state, boolean amsgrad,
                                         boolean maximize, boolean decoupled, double weightDecay, double decay,
                                         double beta1, double beta2, double eps, double stepSize, double bc2Sqrt) {
        if (param.dtype() != DType.FLOAT32 || grad.dtype() != DType.FLOAT32 || !param.isContiguous()
                || !grad.isContiguous() || param.storage() == grad.storage() || DeviceCheck.anyOnDevice(param, grad)) {
            return false;
        }
        Tensor m = state.zerosBuffer("exp_avg", param);
        Tensor v = state.zerosBuffer("exp_avg_sq", param);
        Tensor vmax = amsgrad ? state.zerosBuffer("max_exp_avg_sq", param) : null;
        for (Tensor t : new Tensor[] {m, v, vmax}) {
            if (t != null && (t.dtype() != DType.FLOAT32 || !t.isContiguous() || DeviceCheck.anyOnDevice(t))) {
                return false;
            }
        }
        float[] x = vmax == null ? null : vmax.storage().floats();
        int xo = vmax == null ? 0 : vmax.storageOffset();
        float sign = maximize ? -1f : 1f;
        float wd = decoupled ? 0f : (float) weightDecay;
        float dec = decoupled ? (float) decay : 1f;
        AdamStep.run(param.storage().floats(), param.storageOffset(), grad.storage().floats(), grad.storageOffset(),
                m.storage().floats(), m.storageOffset(), v.storage().floats(), v.storageOffset(), x, xo, param.numel(),
                sign, wd, dec, (float) beta1, (float) (1 - beta1), (float) beta2, (float) (1 - beta2), (float) eps,
                (float) -stepSize, (float) bc2Sqrt);
        for (Tensor t : new Tensor[] {param, m, v, vmax}) {
            if (t != null) {
                t.storage().bumpVersion();
            }
        }
        return true;
    }

    /**
     * Adam's and AdamW's hyperparameters; those not set keep the optimizer's PyTorch defaults
     * (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0 for Adam and 0.01 for AdamW).
     */
    public static final class Options {
        final Map<String, Object> values = new LinkedHashMap<>();

        public Options lr(double lr) {
            values.put("lr", lr);
            return this;
        }

        /** PyTorch's {@code betas=(beta1, beta2)}, kept as options {@code "beta1"} and {@code "beta2"}. */
        public Options betas(double beta1, double beta2) {
            values.put("beta1", beta1);
            values.put("beta2", beta2);
            return this;
        }

        public Options eps(double eps) {
            values.put("eps", eps);
            return this;
        }

        public Options weightDecay(double weightDecay) {
            values.put("weight_decay", weightDecay);
            return this;
        }

        public Options amsgrad(boolean amsgrad) {
            values.put("amsgrad", amsgrad);
            return this;
        }

        public Options maximize(boolean maximize) {
            values.put("maximize", maximize);
            return this;
        }
    }
}
