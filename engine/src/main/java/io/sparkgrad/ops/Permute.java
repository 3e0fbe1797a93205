package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

import java.util.Arrays;

/**
 * A view with the dimensions reordered: output dimension i is input dimension {@code dims[i]}.
 * <br>{@code x: grad.permute(inverse(dims))}.
 */
public final class Permute extends Node {
    private int[] inverse;

    private Permute() {
        super("PermuteBackward0");
    }

    public static Tensor apply(Tensor x, int[] dims) {
        if (dims.length != x.dim()) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(dims) + " has " + dims.length
                    + " dimensions but the tensor of shape " + Shapes.str(x.shape()) + " has " + x.dim());
        }
        int[] perm = new int[dims.length];
        boolean[] seen = new boolean[dims.length];
        for (int i = 0; i < dims.length; i++) {
            perm[i] = Shapes.wrapDim(dims[i], x.dim());
            if (seen[perm[i]]) {
                throw new IllegalArgumentException("permute: dimension " + perm[i] + " repeats in " + Arrays.toString(dims));
            }
            seen[perm[i]] = true;
        }
        Tensor out = x.permuteView(perm);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Permute node = new Permute();
        node.inverse = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            node.inverse[perm[i]] = i;
        }
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.permute(inverse)};
    }
}
