package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A view with a new dimension of size 1 at {@code dim}.
 * <br>{@code x: grad.squeeze(dim)}.
 */
public final class Unsqueeze extends Node {
    private int dim;

    private Unsqueeze() {
        super("UnsqueezeBackward0");
    }

    public static Tensor apply(Tensor x, int dim) {
        int d = Shapes.wrapDim(dim, x.dim() + 1);
        int[] shape = x.shape();
        int[] strides = x.stride();
        int[] s = new int[shape.length + 1];
        int[] st = new int[shape.length + 1];
        for (int i = 0, k = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = k < shape.length ? strides[k] * shape[k] : 1;
            } else {
                s[i] = shape[k];
                st[i] = strides[k++];
            }
        }
        Tensor out = x.viewOf(s, st, x.storageOffset());
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Unsqueeze node = new Unsqueeze();
        node.dim = d;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.squeeze(dim)};
    }
}
