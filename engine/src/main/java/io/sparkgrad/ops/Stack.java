package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Tensors of one shape joined along a new dimension: {@link Cat} of the unsqueezed inputs, so its
 * gradient is the matching slice of {@code grad}. PyTorch names the node StackBackward0, and so do we.
 */
public final class Stack {
    private Stack() {
    }

    public static Tensor apply(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("stack: expected a non-empty list of tensors");
        }
        int[] shape = tensors.get(0).shape();
        int d = Shapes.wrapDim(dim, shape.length + 1);
        List<Tensor> parts = new ArrayList<>(tensors.size());
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            if (!java.util.Arrays.equals(t.shape(), shape)) {
                throw new IllegalArgumentException("stack: expects each tensor to be equal size, but got "
                        + Shapes.str(shape) + " at entry 0 and " + Shapes.str(t.shape()) + " at entry " + i);
            }
            parts.add(t.unsqueeze(d));
        }
        return Cat.applyNamed(parts, d, "StackBackward0");
    }
}
