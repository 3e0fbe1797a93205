package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.Indexing;
import io.sparkgrad.backend.Reduce;

/**
 * Maxima. Over all elements or several dimensions (MaxBackward1, AmaxBackward0):
 * {@code x: grad * (x == result) / count(x == result)}, the gradient shared evenly between ties.
 * Along one dimension (MaxBackward0): {@code x: grad} scattered to the position of the maximum.
 */
public final class Max extends Node {
    private SavedTensor input;
    private SavedTensor result;
    private SavedTensor indices;
    private int[] inputShape;
    private int[] keptShape;
    private int dim;

    private Max(String name) {
        super(name);
    }

    public static Tensor all(Tensor x) {
        if (x.numel() == 0) {
            throw new IllegalArgumentException("max: cannot take the maximum of an empty tensor of shape "
                    + Shapes.str(x.shape()) + "; give a dimension");
        }
        return evenly(x, Shapes.wrapDims(new int[0], x.dim()), false, "MaxBackward1");
    }

    public static Tensor amax(Tensor x, int[] dims, boolean keepDim) {
        return evenly(x, Ops.reductionDims(dims, x.dim()), keepDim, "AmaxBackward0");
    }

    private static Tensor evenly(Tensor x, int[] dims, boolean keepDim, String name) {
        Ops.requireFloat("max", x);
        int[] kept = Ops.withKeptDims(x.shape(), dims);
        Tensor out = Reduce.amax(x, dims);
        if (keepDim) {
            out = out.reshape(kept);
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Max node = new Max(name);
        node.input = node.save(x);
        node.inputShape = x.shape();
        node.keptShape = kept;
        Graph.record(node, out, x);
        node.result = node.save(out);
        return out;
    }

    public static Tensor alongDim(Tensor x, int dim, boolean keepDim) {
        Ops.requireFloat("max", x);
        int d = Shapes.wrapDim(dim, x.dim());
        if (x.dim() == 0) {
            // A 0-d tensor is its own maximum along dim 0 (or -1), and stays 0-d either way.
            return alongDim(x.reshape(1), 0, false);
        }
        int[] kept = Ops.withKeptDims(x.shape(), new int[] {d});
        Tensor idx = Reduce.argmax(x, d).reshape(kept);
        Tensor out = Indexing.gather(x, d, idx);
        if (!keepDim) {
            out = out.reshape(Ops.withoutDim(x.shape(), d));
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Max node = new Max("MaxBackward0");
        node.indices = node.save(idx);
        node.inputShape = x.shape();
        node.keptShape = kept;
        node.dim = d;
        return Graph.record(node, out, x);
    }

    public static Tensor argmax(Tensor x, int dim, boolean keepDim) {
        int d = Shapes.wrapDim(dim, x.dim());
        if (x.dim() == 0) {
            return argmax(x.reshape(1), 0, false);
        }
        Tensor idx = Reduce.argmax(x, d);
        return keepDim ? idx.reshape(Ops.withKeptDims(x.shape(), new int[] {d})) : idx;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor g = grad.reshape(keptShape);
        if (indices != null) {
            return new Tensor[] {ScatterAdd.apply(inputShape, dim, indices.unpack(), g)};
        }
        Tensor x = input.unpack().detach();
        Tensor isMax = Elementwise.binary(BinaryKernel.EQ, x, result.unpack().detach().reshape(keptShape), "max");
        int[] reduced = dimsOf(keptShape, inputShape);
        Tensor count = reduced.length == 0 ? isMax : isMax.sum(reduced, true);
        return new Tensor[] {g.div(count).mul(isMax)};
    }

    private static int[] dimsOf(int[] kept, int[] full) {
        int[] dims = new int[full.length];
        int n = 0;
        for (int d = 0; d < full.length; d++) {
            if (kept[d] == 1 && full[d] != 1) {
                dims[n++] = d;
            }
        }
        return java.util.Arrays.copyOf(dims, n);
    }
}
