package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

import java.util.Arrays;

/**
 * A view of index {@code i} along {@code dim}, that dimension removed ({@code x[i]}).
 * <br>{@code x: zeros(x.shape)} with {@code grad} written at index {@code i}.
 */
public final class Select extends Node {
    private int[] inputShape;
    private int dim;
    private int index;

    private Select() {
        super("SelectBackward0");
    }

    public static Tensor apply(Tensor x, int dim, int index) {
        if (x.dim() == 0) {
            throw new IllegalArgumentException("select: cannot index a 0-dimensional tensor");
        }
        int d = Shapes.wrapDim(dim, x.dim());
        int size = x.size(d);
        int i = index < 0 ? index + size : index;
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("select: index " + index + " is out of bounds for dimension " + d
                    + " with size " + size);
        }
        int[] shape = x.shape();
        int[] strides = x.stride();
        int offset = x.storageOffset() + i * strides[d];
        int[] s = new int[shape.length - 1];
        int[] st = new int[shape.length - 1];
        for (int k = 0, j = 0; k < shape.length; k++) {
            if (k != d) {
                s[j] = shape[k];
                st[j++] = strides[k];
            }
        }
        Tensor out = x.viewOf(s, st, offset);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Select node = new Select();
        node.inputShape = Arrays.copyOf(shape, shape.length);
        node.dim = d;
        node.index = i;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {SliceScatter.apply(grad.unsqueeze(dim), inputShape, dim, index, index + 1, 1)};
    }
}
