package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

/**
 * The entries of {@code dim} listed by a 1-D int64 index (rows of an embedding table, say): a
 * {@link Gather} with the index broadcast over the other dimensions, so its gradient is the
 * matching scatter-add. PyTorch names the node IndexSelectBackward0, and so do we.
 */
public final class IndexSelect {
    private IndexSelect() {
    }

    public static Tensor apply(Tensor x, int dim, Tensor index) {
        if (index.dtype() != DType.INT64 || index.dim() != 1) {
            throw new IllegalArgumentException("indexSelect: index must be a 1-D int64 tensor, got " + index.dtype()
                    + " of shape " + Shapes.str(index.shape()));
        }
        int d = Shapes.wrapDim(dim, x.dim());
        int[] lined = new int[x.dim()];
        java.util.Arrays.fill(lined, 1);
        lined[d] = index.size(0);
        int[] outShape = x.shape();
        outShape[d] = index.size(0);
        Tensor wide = index.reshape(lined).expand(outShape);
        return Gather.applyNamed(x, d, wide, "IndexSelectBackward0");
    }
}
