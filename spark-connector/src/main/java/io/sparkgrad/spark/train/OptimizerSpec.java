package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.optim.Adam;
import io.sparkgrad.optim.AdamW;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.optim.SGD;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Which engine optimizer to build, and its hyperparameters: a small immutable, serializable value
 * (an {@link Optimizer} itself holds tensors and is neither). Each {@code with…} method returns a
 * copy.
 *
 * <pre>{@code
 * OptimizerSpec.adamw(1e-3).withWeightDecay(1e-4)
 * OptimizerSpec.sgd(0.1).withMomentum(0.9).withNesterov(true)
 * }</pre>
 *
 * Options an optimizer does not have are rejected when it is built: momentum and Nesterov belong
 * to SGD, betas and eps to Adam/AdamW.
 */
public final class OptimizerSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The optimizers the trainer can build. */
    public enum Kind {
        SGD, ADAM, ADAMW;

        /** {@code "sgd"}, {@code "adam"} or {@code "adamw"} (case-insensitive). */
        public static Kind parse(String name) {
            for (Kind k : values()) {
                if (k.name().equalsIgnoreCase(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("optimizer must be one of sgd, adam, adamw; got \"" + name + "\"");
        }
    }

    private final Kind kind;
    private final double lr;
    private final double momentum;
    private final boolean nesterov;
    /** NaN: the optimizer's own default (0 for SGD and Adam, 0.01 for AdamW). */
    private final double weightDecay;
    private final double beta1;
    private final double beta2;
    private final double eps;

    private OptimizerSpec(Kind kind, double lr, double momentum, boolean nesterov, double weightDecay, double beta1,
            double beta2, double eps) {
        this.kind = Objects.requireNonNull(kind, "kind");
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be a positive number, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!Double.isNaN(weightDecay) && !(weightDecay >= 0)) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("eps must be positive, got " + eps);
        }
        if (kind != Kind.SGD && (momentum != 0 || nesterov)) {
            throw new IllegalArgumentException("momentum and nesterov are SGD options; " + name() + " has betas instead");
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("nesterov needs a momentum > 0");
        }
        this.lr = lr;
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /** Plain SGD with learning rate {@code lr}. */
    public static OptimizerSpec sgd(double lr) {
        return new OptimizerSpec(Kind.SGD, lr, 0, false, Double.NaN, 0.9, 0.999, 1e-8);
    }

    /** Adam with learning rate {@code lr} and PyTorch's defaults otherwise. */
    public static OptimizerSpec adam(double lr) {
        return new OptimizerSpec(Kind.ADAM, lr, 0, false, Double.NaN, 0.9, 0.999, 1e-8);
    }

    /** AdamW with learning rate {@code lr} and PyTorch's defaults otherwise (weight decay 0.01). */
    public static OptimizerSpec adamw(double lr) {
        return new OptimizerSpec(Kind.ADAMW, lr, 0, false, Double.NaN, 0.9, 0.999, 1e-8);
    }

    /** By name: {@code "sgd"}, {@code "adam"} or {@code "adamw"}. */
    public static OptimizerSpec of(String name, double lr) {
        switch (Kind.parse(name)) {
            case SGD: return sgd(lr);
            case ADAM: return adam(lr);
            default: return adamw(lr);
        }
    }

    /**
     * The outer optimizer that makes local-steps training plain parameter averaging: SGD with
     * learning rate 1 and no momentum applied to the averaged parameter change.
     */
    public static OptimizerSpec averaging() {
        return sgd(1.0);
    }

    /**
     * DiLoCo's outer optimizer (Douillard et al., 2023): SGD with learning rate 0.7 and Nesterov
     * momentum 0.9 applied to the averaged parameter change.
     */
    public static OptimizerSpec nesterovOuter() {
        return sgd(0.7).withMomentum(0.9).withNesterov(true);
    }

    public OptimizerSpec withLr(double value) {
        return new OptimizerSpec(kind, value, momentum, nesterov, weightDecay, beta1, beta2, eps);
    }

    /** SGD only. */
    public OptimizerSpec withMomentum(double value) {
        return new OptimizerSpec(kind, lr, value, nesterov, weightDecay, beta1, beta2, eps);
    }

    /** SGD only; needs a momentum. */
    public OptimizerSpec withNesterov(boolean value) {
        return new OptimizerSpec(kind, lr, momentum, value, weightDecay, beta1, beta2, eps);
    }

    public OptimizerSpec withWeightDecay(double value) {
        return new OptimizerSpec(kind, lr, momentum, nesterov, value, beta1, beta2, eps);
    }

    /** Adam and AdamW only. */
    public OptimizerSpec withBetas(double b1, double b2) {
        checkAdam("betas");
        return new OptimizerSpec(kind, lr, momentum, nesterov, weightDecay, b1, b2, eps);
    }

    /** Adam and AdamW only. */
    public OptimizerSpec withEps(double value) {
        checkAdam("eps");
        return new OptimizerSpec(kind, lr, momentum, nesterov, weightDecay, beta1, beta2, value);
    }

    private void checkAdam(String option) {
        if (kind == Kind.SGD) {
            throw new IllegalArgumentException(option + " is an Adam/AdamW option, not an SGD one");
        }
    }

    public Kind kind() {
        return kind;
    }

    /** {@code "sgd"}, {@code "adam"} or {@code "adamw"}. */
    public String name() {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    public double lr() {
        return lr;
    }

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    /** The weight decay, with the optimizer's default filled in. */
    public double weightDecay() {
        return Double.isNaN(weightDecay) ? (kind == Kind.ADAMW ? 0.01 : 0.0) : weightDecay;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    /** A new engine optimizer over {@code params}, with fresh state. */
    public Optimizer create(List<? extends Tensor> params) {
        switch (kind) {
            case SGD:
                return new SGD(params, new SGD.Options().lr(lr).momentum(momentum).nesterov(nesterov)
                        .weightDecay(weightDecay()));
            case ADAM:
                return new Adam(params, adamOptions());
            default:
                return new AdamW(params, adamOptions());
        }
    }

    private Adam.Options adamOptions() {
        return new Adam.Options().lr(lr).betas(beta1, beta2).eps(eps).weightDecay(weightDecay());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof OptimizerSpec)) {
            return false;
        }
        OptimizerSpec s = (OptimizerSpec) o;
        return kind == s.kind && lr == s.lr && momentum == s.momentum && nesterov == s.nesterov
                && weightDecay() == s.weightDecay() && beta1 == s.beta1 && beta2 == s.beta2 && eps == s.eps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, lr, momentum, nesterov, weightDecay(), beta1, beta2, eps);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name()).append("(lr=").append(lr);
        if (kind == Kind.SGD) {
            b.append(", momentum=").append(momentum).append(", nesterov=").append(nesterov);
        } else {
            b.append(", betas=(").append(beta1).append(", ").append(beta2).append("), eps=").append(eps);
        }
        return b.append(", weight_decay=").append(weightDecay()).append(')').toString();
    }
}
