package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.ConvKernels.Window;
import io.sparkgrad.backend.PoolKernels;

/**
 * 2-D max pooling of {@code [N, C, H, W]}: {@code out[n, c, oy, ox] = max x[n, c, y, x]} over the
 * window at {@code (oy·sh - ph, ox·sw - pw)} (padding never wins; NaN does; the first maximum on ties).
 * <br>{@code x: grad} routed to the position of each window's maximum, summed where windows
 * overlap ({@link MaxPool2dBackward}, with the saved indices).
 */
public final class MaxPool2dWithIndices extends Node {
    private SavedTensor indices;
    private int[] inputShape;

    private MaxPool2dWithIndices() {
        super("MaxPool2DWithIndicesBackward0");
    }

    public static Tensor apply(Tensor x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
        Ops.requireFloat("maxPool2d", x);
        if (x.dim() != 4) {
            throw new IllegalArgumentException("maxPool2d: expected a 4-D input [N, C, H, W], got shape "
                    + Shapes.str(x.shape()));
        }
        if (padH > kernelH / 2 || padW > kernelW / 2) {
            throw new IllegalArgumentException("maxPool2d: pad should be at most half of kernel size, but got pad=("
                    + padH + ", " + padW + ") and kernel_size=(" + kernelH + ", " + kernelW + ")");
        }
        Window g = Window.of(x.shape(), kernelH, kernelW, strideH, strideW, padH, padW);
        PoolKernels.MaxPooled pooled = PoolKernels.maxPool2d(x, g);
        if (!Graph.needsGrad(x)) {
            return pooled.values();
        }
        MaxPool2dWithIndices node = new MaxPool2dWithIndices();
        node.indices = node.save(pooled.indices());
        node.inputShape = x.shape();
        return Graph.record(node, pooled.values(), x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {MaxPool2dBackward.apply(grad, indices.unpack(), inputShape)};
    }
}
