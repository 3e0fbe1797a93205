package io.sparkgrad.ops;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.PoolKernels;

/**
 * The gradient of {@link MaxPool2dWithIndices} as an op of its own, so it is fast (one pass that
 * adds each value at its recorded position) and still differentiable for second derivatives:
 * {@code out = zeros(inputShape)}, {@code out[n, c].flat[indices[n, c, k]] += grad[n, c, k]}.
 * <br>{@code grad: gg[n, c].flat[indices[n, c, k]]} — the same selection the forward pass made.
 */
public final class MaxPool2dBackward extends Node {
    private SavedTensor indices;

    private MaxPool2dBackward() {
        super("MaxPool2DWithIndicesBackwardBackward0");
    }

    static Tensor apply(Tensor grad, Tensor indices, int[] inputShape) {
        Tensor out = PoolKernels.maxPool2dBackward(grad, indices, inputShape);
        if (!Graph.needsGrad(grad)) {
            return out;
        }
        MaxPool2dBackward node = new MaxPool2dBackward();
        node.indices = node.save(indices);
        return Graph.record(node, out, grad);
    }

    @Override
    protected Tensor[] backward(Tensor gg) {
        Tensor index = indices.unpack();
        int[] s = gg.shape();
        int planes = s[0] * s[1];
        Tensor flatIndex = index.reshape(planes, index.size(2) * index.size(3));
        Tensor picked = gg.reshape(planes, s[2] * s[3]).gather(1, flatIndex);
        return new Tensor[] {picked.reshape(index.shape())};
    }
}
