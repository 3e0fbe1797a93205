package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.Reduction;

/**
 * A loss as a module ({@code torch.nn}'s {@code _Loss}): it compares an input with a target, so it
 * is called with two tensors, {@link #forward(Tensor, Tensor)} or {@link #apply(Tensor, Tensor)}.
 * Class weights given to a loss are buffers, saved in its state dict as PyTorch saves them.
 */
public abstract class Loss extends Module {
    private final Reduction reduction;

    protected Loss(Reduction reduction) {
        this.reduction = reduction;
    }

    public final Reduction reduction() {
        return reduction;
    }

    /** The loss of {@code input} against {@code target}, reduced as configured. */
    public abstract Tensor forward(Tensor input, Tensor target);

    /** Runs {@link #forward(Tensor, Tensor)} (PyTorch's {@code loss_fn(input, target)}). */
    public final Tensor apply(Tensor input, Tensor target) {
        return forward(input, target);
    }

    /** A loss needs a target: always throws, naming the two-argument form. */
    @Override
    public final Tensor forward(Tensor input) {
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " compares an input with a target: call forward(input, target)");
    }

    /** Registers an optional weight as a buffer (absent from the state dict when null, as in PyTorch). */
    protected final Tensor registerOptionalBuffer(String name, Tensor weight) {
        return weight == null ? null : registerBuffer(name, weight.detach());
    }
}
