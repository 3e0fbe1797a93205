package io.sparkgrad.optim;

import io.sparkgrad.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * RMSprop with optional momentum, centering, weight decay and maximization:
 * {@code torch.optim.RMSprop} of PyTorch 1.13 (single-tensor implementation), elementwise:
 *
 * <pre>
 * g = maximize ? -grad : grad
 * if weight_decay != 0:  g = g + weight_decay * p
 * s = alpha * s + (1 - alpha) * g * g                 (state "square_avg")
 * if centered:
 *     a = alpha * a + (1 - alpha) * g                 (state "grad_avg")
 *     avg = sqrt(s - a * a) + eps
 * else:
 *     avg = sqrt(s) + eps
 * if momentum > 0:
 *     b = momentum * b + g / avg                      (state "momentum_buffer")
 *     p = p - lr * b
 * else:
 *     p = p - lr * g / avg
 * </pre>
 *
 * Note that eps is added outside the square root (TensorFlow adds it inside).
 */
public final class RMSprop extends Optimizer {
    private static final Map<String, Object> DEFAULTS = classDefaults();

    public RMSprop(List<? extends Tensor> params, double lr) {
        this(params, new Options().lr(lr));
    }

    public RMSprop(List<? extends Tensor> params, Options options) {
        this(options, oneGroup(params));
    }

    /** Several parameter groups; options a group does not set come from {@code options}. */
    public RMSprop(Options options, List<ParamGroup> groups) {
        super("RMSprop", DEFAULTS, options.values, groups);
    }

    private static Map<String, Object> classDefaults() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("lr", 1e-2);
        d.put("alpha", 0.99);
        d.put("eps", 1e-8);
        d.put("weight_decay", 0.0);
        d.put("momentum", 0.0);
        d.put("centered", false);
        d.put("maximize", false);
        return d;
    }

    @Override
    protected void validate(ParamGroup g) {
        requireAtLeast(g, "lr", 0);
        requireAtLeast(g, "eps", 0);
        requireAtLeast(g, "momentum", 0);
        requireAtLeast(g, "weight_decay", 0);
        requireAtLeast(g, "alpha", 0);
    }

    @Override
    protected Set<String> stateBufferNames() {
        return Set.of("square_avg", "grad_avg", "momentum_buffer");
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamState state, ParamGroup group) {
        double lr = group.lr();
        double alpha = group.getDouble("alpha");
        double eps = group.getDouble("eps");
        double weightDecay = group.getDouble("weight_decay");
        double momentum = group.getDouble("momentum");
        boolean centered = group.getBoolean("centered");
        boolean maximize = group.getBoolean("maximize");

        Elements p = Elements.of(param, "parameter");
        Elements d = Elements.of(grad, "gradient");
        Elements s = Elements.of(state.zerosBuffer("square_avg", param), "square_avg");
        Elements a = centered ? Elements.of(state.zerosBuffer("grad_avg", param), "grad_avg") : null;
        Elements b = momentum > 0 ? Elements.of(state.zerosBuffer("momentum_buffer", param), "momentum_buffer") : null;
        int n = p.size();
        for (int i = 0; i < n; i++) {
            double gi = maximize ? -d.get(i) : d.get(i);
            double pi = p.get(i);
            if (weightDecay != 0) {
                gi = gi + weightDecay * pi;
            }
            // addcmul_(g, g, value=1-alpha) multiplies left to right: ((1 - alpha) * g) * g.
            s.set(i, s.get(i) * alpha + (1 - alpha) * gi * gi);
            double si = s.get(i); // as stored: float32 state rounds, as in PyTorch
            double avg;
            if (a != null) {
                a.set(i, a.get(i) * alpha + (1 - alpha) * gi);
                double ai = a.get(i);
                // square_avg.addcmul(grad_avg, grad_avg, value=-1) is s + (-1 * a) * a.
                avg = Math.sqrt(si + -ai * ai);
            } else {
                avg = Math.sqrt(si);
            }
            avg = avg + eps;
            if (b != null) {
                b.set(i, b.get(i) * momentum + gi / avg);
                p.set(i, pi + -lr * b.get(i));
            } else {
                // addcdiv_(g, avg, value=-lr) computes (value * g) / avg.
                p.set(i, pi + -lr * gi / avg);
            }
        }
        p.commit();
        s.commit();
        if (a != null) {
            a.commit();
        }
        if (b != null) {
            b.commit();
        }
    }

    /** RMSprop's hyperparameters; those not set keep PyTorch's defaults (lr 0.01, alpha 0.99, eps 1e-8). */
    public static final class Options {
        final Map<String, Object> values = new LinkedHashMap<>();

        public Options lr(double lr) {
            values.put("lr", lr);
            return this;
        }

        /** The smoothing constant of the running averages. */
        public Options alpha(double alpha) {
            values.put("alpha", alpha);
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

        public Options momentum(double momentum) {
            values.put("momentum", momentum);
            return this;
        }

        /** Normalizes by an estimate of the gradient's variance instead of its second moment. */
        public Options centered(boolean centered) {
            values.put("centered", centered);
            return this;
        }

        public Options maximize(boolean maximize) {
            values.put("maximize", maximize);
            return this;
        }
    }
}
