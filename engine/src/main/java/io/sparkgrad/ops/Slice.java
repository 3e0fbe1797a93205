package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A view of elements {@code start, start+step, … < end} along {@code dim} ({@code x[:, start:end:step]}).
 * Bounds are clamped to the dimension as in Python; negatives count from the end.
 * <br>{@code x: zeros(x.shape)} with {@code grad} written into the slice.
 */
public final class Slice extends Node {
    private int[] inputShape;
    private int dim;
    private int start;
    private int end;
    private int step;

    private Slice() {
        super("SliceBackward0");
    }

    public static Tensor apply(Tensor x, int dim, int start, int end, int step) {
        int d = Shapes.wrapDim(dim, x.dim());
        if (step <= 0) {
            throw new IllegalArgumentException("slice: step must be positive, got " + step);
        }
        int size = x.size(d);
        int s = clampIndex(start, size);
        int e = Math.max(s, clampIndex(end, size));
        int[] shape = x.shape();
        int[] strides = x.stride();
        shape[d] = (e - s + step - 1) / step;
        int offset = x.storageOffset() + s * strides[d];
        strides[d] *= step;
        Tensor out = x.viewOf(shape, strides, offset);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Slice node = new Slice();
        node.inputShape = x.shape();
        node.dim = d;
        node.start = s;
        node.end = e;
        node.step = step;
        return Graph.record(node, out, x);
    }

    private static int clampIndex(int i, int size) {
        int w = i < 0 ? i + size : i;
        return Math.min(Math.max(w, 0), size);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {SliceScatter.apply(grad, inputShape, dim, start, end, step)};
    }
}
