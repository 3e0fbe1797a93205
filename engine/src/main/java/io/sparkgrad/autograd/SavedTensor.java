package io.sparkgrad.autograd;

import io.sparkgrad.Tensor;

/**
 * A tensor a node keeps for its backward formula, with the storage version it had when saved.
 * Unpacking fails clearly if the graph was already freed by a backward pass, or if the tensor was
 * changed in place since (its gradient would silently be wrong otherwise).
 */
public final class SavedTensor {
    private final Node owner;
    private Tensor tensor;
    private final int savedVersion;

    SavedTensor(Node owner, Tensor tensor) {
        this.owner = owner;
        this.tensor = tensor;
        this.savedVersion = tensor.version();
    }

    public Tensor unpack() {
        if (tensor == null) {
            throw new IllegalStateException("Trying to backward through the graph a second time (or to use saved "
                    + "tensors after they were freed) at " + owner.name() + ". Saved intermediate values of the "
                    + "graph are freed by backward() and Autograd.grad(); pass retainGraph=true to the first call "
                    + "if you need to backward through the graph again.");
        }
        if (tensor.version() != savedVersion) {
            throw new IllegalStateException("one of the tensors needed for gradient computation has been modified "
                    + "by an inplace operation: [" + tensor.dtype().torchName() + " " + io.sparkgrad.Shapes.str(tensor.shape())
                    + "], which is output 0 of " + (tensor.gradFn() == null ? "a leaf" : tensor.gradFn().name())
                    + ", is at version " + tensor.version() + "; expected version " + savedVersion
                    + " instead (needed by " + owner.name() + "). Use the out-of-place op, or clone() the tensor "
                    + "before changing it.");
        }
        return tensor;
    }

    void release() {
        tensor = null;
    }
}
