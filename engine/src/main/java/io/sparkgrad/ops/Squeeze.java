package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A view without dimensions of size 1 (all of them: SqueezeBackward0; one: SqueezeBackward1).
 * <br>{@code x: grad.reshape(x.shape)}.
 */
public final class Squeeze extends Node {
    private int[] inputShape;

    private Squeeze(String name) {
        super(name);
    }

    public static Tensor all(Tensor x) {
        return keep(x, -1, "SqueezeBackward0");
    }

    public static Tensor dim(Tensor x, int dim) {
        return keep(x, Shapes.wrapDim(dim, x.dim()), "SqueezeBackward1");
    }

    /** Drops size-1 dimensions: every one when {@code only < 0}, else just {@code only}. */
    private static Tensor keep(Tensor x, int only, String name) {
        int[] shape = x.shape();
        int[] strides = x.stride();
        int[] s = new int[shape.length];
        int[] st = new int[shape.length];
        int n = 0;
        for (int d = 0; d < shape.length; d++) {
            boolean drop = shape[d] == 1 && (only < 0 || only == d);
            if (!drop) {
                s[n] = shape[d];
                st[n++] = strides[d];
            }
        }
        Tensor out = x.viewOf(java.util.Arrays.copyOf(s, n), java.util.Arrays.copyOf(st, n), x.storageOffset());
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Squeeze node = new Squeeze(name);
        node.inputShape = shape;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.reshape(inputShape)};
    }
}
