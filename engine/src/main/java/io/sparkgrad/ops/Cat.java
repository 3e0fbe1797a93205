package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Layout;

import java.util.List;

/**
 * Tensors joined along an existing dimension; all other sizes must match.
 * <br>{@code inputs[i]: grad.narrow(dim, offset_i, size_i)}.
 */
public final class Cat extends Node {
    private int dim;
    private int[] sizes;

    private Cat(String name) {
        super(name);
    }

    public static Tensor apply(List<Tensor> tensors, int dim) {
        return applyNamed(tensors, dim, "CatBackward0");
    }

    static Tensor applyNamed(List<Tensor> tensors, int dim, String name) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("cat: expected a non-empty list of tensors");
        }
        Tensor first = tensors.get(0);
        int d = Shapes.wrapDim(dim, first.dim());
        DType dtype = first.dtype();
        int total = 0;
        int[] sizes = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (t.dim() != first.dim()) {
                throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Shapes.str(t.shape())
                        + " but tensor 0 has shape " + Shapes.str(first.shape()) + " (ranks differ)");
            }
            for (int k = 0; k < t.dim(); k++) {
                if (k != d && t.size(k) != first.size(k)) {
                    throw new IllegalArgumentException("cat: sizes must match except in dimension " + d + ": tensor "
                            + i + " has shape " + Shapes.str(t.shape()) + ", tensor 0 has " + Shapes.str(first.shape()));
                }
            }
            dtype = DType.promote(dtype, t.dtype());
            sizes[i] = t.size(d);
            total += sizes[i];
        }
        int[] shape = first.shape();
        shape[d] = total;
        Tensor out = Tensor.empty(dtype, io.sparkgrad.backend.DeviceCheck.common("cat", tensors.toArray(new Tensor[0])), shape);
        int offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Layout.copyInto(tensors.get(i), out.detach().narrow(d, offset, sizes[i]));
            offset += sizes[i];
        }
        Tensor[] inputs = tensors.toArray(new Tensor[0]);
        if (!Graph.needsGrad(inputs)) {
            return out;
        }
        Cat node = new Cat(name);
        node.dim = d;
        node.sizes = sizes;
        return Graph.record(node, out, inputs);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor[] grads = new Tensor[sizes.length];
        int offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (needsGrad(i)) {
                grads[i] = grad.narrow(dim, offset, sizes[i]);
            }
            offset += sizes[i];
        }
        return grads;
    }
}
