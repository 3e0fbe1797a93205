package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A view with two dimensions swapped (no data moves).
 * <br>{@code x: grad.transpose(dim0, dim1)}.
 */
public final class Transpose extends Node {
    private int dim0;
    private int dim1;

    private Transpose() {
        super("TransposeBackward0");
    }

    public static Tensor apply(Tensor x, int dim0, int dim1) {
        int a = Shapes.wrapDim(dim0, x.dim());
        int b = Shapes.wrapDim(dim1, x.dim());
        int[] perm = new int[x.dim()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        perm[a] = b;
        perm[b] = a;
        Tensor out = x.permuteView(perm);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Transpose node = new Transpose();
        node.dim0 = a;
        node.dim1 = b;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.transpose(dim0, dim1)};
    }
}
