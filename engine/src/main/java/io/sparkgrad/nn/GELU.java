package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * The Gaussian error linear unit {@code x·Φ(x)} ({@code torch.nn.GELU}), exact (with erf) by
 * default as PyTorch's, or with {@code approximate = "tanh"} PyTorch's tanh approximation.
 */
public class GELU extends Module {
    private final String approximate;

    public GELU() {
        this("none");
    }

    public GELU(String approximate) {
        if (!approximate.equals("none") && !approximate.equals("tanh")) {
            throw new IllegalArgumentException("GELU: approximate must be \"none\" or \"tanh\", got \"" + approximate + "\"");
        }
        this.approximate = approximate;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.gelu(input, approximate);
    }

    @Override
    protected String extraRepr() {
        return "approximate='" + approximate + "'";
    }
}
