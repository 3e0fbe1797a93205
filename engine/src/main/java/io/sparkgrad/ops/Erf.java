package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.ErfKernel;

/**
 * {@code out = erf(x) = 2/√π ∫₀ˣ e^(-t²) dt} (behind the exact GELU).
 * <br>{@code x: grad * 2/√π * e^(-x²)}.
 */
public final class Erf extends Node {
    private static final double TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

    private SavedTensor input;

    private Erf() {
        super("ErfBackward0");
    }

    public static Tensor apply(Tensor x) {
        Ops.requireFloat("erf", x);
        Tensor out = ErfKernel.erf(x);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Erf node = new Erf();
        node.input = node.save(x);
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = input.unpack();
        return new Tensor[] {grad.mul(x.mul(x).neg().exp().mul(TWO_OVER_SQRT_PI))};
    }
}
