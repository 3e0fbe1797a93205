package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.Layout;

/**
 * The same elements in a new shape: a view sharing storage when the strides allow (ViewBackward0),
 * otherwise a contiguous copy first (UnsafeViewBackward0).
 * <br>{@code x: grad.reshape(x.shape)}.
 */
public final class Reshape extends Node {
    private int[] inputShape;

    private Reshape(String name) {
        super(name);
    }

    public static Tensor view(Tensor x, int[] newShape) {
        int[] shape = infer(x, newShape, "view");
        int[] strides = viewStrides(x.shape(), x.stride(), shape);
        if (strides == null) {
            throw new IllegalArgumentException("view: shape " + Shapes.str(shape) + " is not compatible with the "
                    + "layout of a tensor of shape " + Shapes.str(x.shape()) + " and strides " + Shapes.str(x.stride())
                    + " (at least one dimension spans two contiguous subspaces); use reshape(...) instead");
        }
        return record(x, x.viewOf(shape, strides, x.storageOffset()), "ViewBackward0");
    }

    public static Tensor reshape(Tensor x, int[] newShape) {
        int[] shape = infer(x, newShape, "reshape");
        int[] strides = viewStrides(x.shape(), x.stride(), shape);
        if (strides != null) {
            return record(x, x.viewOf(shape, strides, x.storageOffset()), "ViewBackward0");
        }
        Tensor dense = Layout.contiguousCopy(x);
        return record(x, Tensor.view(dense.storage(), shape, Shapes.contiguousStrides(shape), 0), "UnsafeViewBackward0");
    }

    private static Tensor record(Tensor x, Tensor out, String name) {
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Reshape node = new Reshape(name);
        node.inputShape = x.shape();
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.reshape(inputShape)};
    }

    /** Resolves one -1 and checks that the element count is unchanged. */
    static int[] infer(Tensor x, int[] requested, String op) {
        int[] shape = requested.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException(op + ": only one dimension can be inferred (-1) in "
                            + Shapes.str(requested));
                }
                unknown = i;
            } else if (shape[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid dimension " + shape[i] + " in " + Shapes.str(requested));
            } else {
                known *= shape[i];
            }
        }
        int n = x.numel();
        if (unknown >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Shapes.str(requested) + " is invalid for input of size "
                        + n + " (shape " + Shapes.str(x.shape()) + ")");
            }
            shape[unknown] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(requested) + " is invalid for input of size "
                    + n + " (shape " + Shapes.str(x.shape()) + ")");
        }
        return shape;
    }

    /** PyTorch's stride computation for a view: null when the new shape would need a copy. */
    static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
        if (oldShape.length == 0 || Shapes.numel(oldShape) == 0) {
            return Shapes.contiguousStrides(newShape);
        }
        int[] newStrides = new int[newShape.length];
        int viewD = newShape.length - 1;
        long chunkBaseStride = oldStrides[oldStrides.length - 1];
        long tensorNumel = 1;
        long viewNumel = 1;
        for (int tensorD = oldShape.length - 1; tensorD >= 0; tensorD--) {
            tensorNumel *= oldShape[tensorD];
            if (tensorD == 0 || (oldShape[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    newStrides[viewD] = (int) (viewNumel * chunkBaseStride);
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) {
                    return null;
                }
                if (tensorD > 0) {
                    chunkBaseStride = oldStrides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? newStrides : null;
    }
}
