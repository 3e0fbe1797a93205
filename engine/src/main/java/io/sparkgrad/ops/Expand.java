package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A broadcast view: size-1 dimensions repeat with stride 0, new leading dimensions may be added;
 * -1 keeps a size.
 * <br>{@code x: grad} summed back to {@code x.shape}.
 */
public final class Expand extends Node {
    private int[] inputShape;

    private Expand() {
        super("ExpandBackward0");
    }

    public static Tensor apply(Tensor x, int[] sizes) {
        int[] shape = x.shape();
        if (sizes.length < shape.length) {
            throw new IllegalArgumentException("expand: the number of sizes " + Shapes.str(sizes) + " must be at least "
                    + "the number of dimensions of " + Shapes.str(shape));
        }
        int[] target = sizes.clone();
        int lead = sizes.length - shape.length;
        for (int d = 0; d < sizes.length; d++) {
            if (target[d] == -1) {
                if (d < lead) {
                    throw new IllegalArgumentException("expand: -1 is not allowed for a new leading dimension in "
                            + Shapes.str(sizes));
                }
                target[d] = shape[d - lead];
            }
            if (d >= lead && shape[d - lead] != 1 && shape[d - lead] != target[d]) {
                throw new IllegalArgumentException("expand: the expanded size " + target[d] + " must match the existing "
                        + "size " + shape[d - lead] + " at non-singleton dimension " + d + " (from " + Shapes.str(shape)
                        + " to " + Shapes.str(sizes) + ")");
            }
        }
        Tensor out = x.viewOf(target, x.broadcastStrides(target, "expand"), x.storageOffset());
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Expand node = new Expand();
        node.inputShape = shape;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.sumToShape(inputShape)};
    }
}
