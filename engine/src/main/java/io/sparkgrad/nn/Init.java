package io.sparkgrad.nn;

import io.sparkgrad.Generator;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;

/**
 * Initialisers that overwrite a tensor in place, as {@code torch.nn.init}, drawing from a
 * {@link Generator}. They run under no-grad, so they may change parameters.
 */
public final class Init {
    private Init() {
    }

    /** Uniform values in {@code [low, high)}. */
    public static Tensor uniform_(Tensor t, double low, double high, Generator gen) {
        return fill(t, Tensor.uniform(low, high, t.dtype(), gen, t.shape()));
    }

    /** Normal values with the given mean and standard deviation. */
    public static Tensor normal_(Tensor t, double mean, double std, Generator gen) {
        return fill(t, Tensor.randn(t.dtype(), gen, t.shape()).mul(std).add(mean));
    }

    public static Tensor zeros_(Tensor t) {
        try (var g = GradMode.noGrad()) {
            return t.fill_(0);
        }
    }

    public static Tensor ones_(Tensor t) {
        try (var g = GradMode.noGrad()) {
            return t.fill_(1);
        }
    }

    /**
     * He (Kaiming) uniform initialisation for a layer followed by a leaky ReLU of negative slope
     * {@code a}: {@code U(-bound, bound)} with {@code bound = gain · √(3 / fanIn)} and
     * {@code gain = √(2 / (1 + a²))}. PyTorch's Linear and Conv layers use {@code a = √5}, which
     * makes the bound {@code 1/√fanIn}.
     */
    public static Tensor kaimingUniform_(Tensor t, double a, Generator gen) {
        if (t.numel() == 0) {
            return t;
        }
        int fanIn = fanIn(t);
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn);
        return uniform_(t, -bound, bound, gen);
    }

    /** PyTorch's default bias of a layer with {@code fanIn} inputs per output: {@code U(±1/√fanIn)}. */
    public static Tensor biasUniform_(Tensor bias, int fanIn, Generator gen) {
        double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
        return uniform_(bias, -bound, bound, gen);
    }

    /**
     * Inputs feeding each output of a weight: {@code shape[1]} times the receptive field (the
     * product of {@code shape[2:]}), as PyTorch's {@code _calculate_fan_in_and_fan_out}.
     */
    public static int fanIn(Tensor weight) {
        if (weight.dim() < 2) {
            throw new IllegalArgumentException("fan in cannot be computed for a tensor with fewer than 2 dimensions, "
                    + "got shape " + Shapes.str(weight.shape()));
        }
        return weight.numel() / weight.size(0);
    }

    private static Tensor fill(Tensor t, Tensor values) {
        try (var g = GradMode.noGrad()) {
            return t.copy_(values);
        }
    }
}
