package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

import java.util.Arrays;

/**
 * {@code torch.matmul}'s dispatch by rank, composed from the primitives {@link Dot}, {@link Mv},
 * {@link Mm} and {@link Bmm}: 1-D·1-D is a dot product, 2-D·1-D a matrix-vector product, 1-D·2-D a
 * row vector times a matrix, 2-D·2-D a matrix product; with more dimensions the leading ones are
 * batch dimensions, broadcast against each other.
 */
public final class Matmul {
    private Matmul() {
    }

    public static Tensor apply(Tensor a, Tensor b) {
        DType t = Ops.common("matmul", a, b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("matmul: expected both operands to have the same dtype, got "
                    + a.dtype() + " " + Shapes.str(a.shape()) + " and " + b.dtype() + " " + Shapes.str(b.shape())
                    + "; convert one with to(DType." + t.name() + ")");
        }
        int ra = a.dim();
        int rb = b.dim();
        if (ra == 0 || rb == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dimension, got "
                    + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape()));
        }
        int k = a.size(-1);
        int kb = rb == 1 ? b.size(0) : b.size(-2);
        if (k != kb) {
            throw new IllegalArgumentException("matmul: cannot multiply " + Shapes.str(a.shape()) + " by "
                    + Shapes.str(b.shape()) + " (" + k + " columns against " + kb + " rows)");
        }
        if (ra == 1 && rb == 1) {
            return Dot.apply(a, b);
        }
        if (ra == 2 && rb == 1) {
            return Mv.apply(a, b);
        }
        if (ra == 1 && rb == 2) {
            return Mm.apply(a.unsqueeze(0), b).squeeze(0);
        }
        if (ra == 2 && rb == 2) {
            return Mm.apply(a, b);
        }
        if (ra >= 3 && rb <= 2) {
            // Fold the batch into the rows: one large product instead of many small ones.
            Tensor rhs = rb == 1 ? b.unsqueeze(1) : b;
            int[] lead = Arrays.copyOf(a.shape(), ra - 1);
            Tensor flat = Mm.apply(a.reshape(-1, k), rhs);
            int[] outShape = Arrays.copyOf(lead, ra);
            outShape[ra - 1] = rhs.size(1);
            Tensor out = flat.reshape(outShape);
            return rb == 1 ? out.squeeze(-1) : out;
        }
        return batched(a, b);
    }

    /** Strictly 2-D product with PyTorch's error for anything else. */
    public static Tensor mm(Tensor a, Tensor b) {
        if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0)) {
            throw new IllegalArgumentException("mm: cannot multiply " + Shapes.str(a.shape()) + " by "
                    + Shapes.str(b.shape()) + " (expected [m, k] and [k, n])");
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("mm: expected both operands to have the same dtype, got " + a.dtype()
                    + " and " + b.dtype());
        }
        return Mm.apply(a, b);
    }

    /** Strictly 3-D batched product. */
    public static Tensor bmm(Tensor a, Tensor b) {
        if (a.dim() != 3 || b.dim() != 3 || a.size(0) != b.size(0) || a.size(2) != b.size(1)) {
            throw new IllegalArgumentException("bmm: cannot multiply " + Shapes.str(a.shape()) + " by "
                    + Shapes.str(b.shape()) + " (expected [B, m, k] and [B, k, n])");
        }
        return Bmm.apply(a, b);
    }

    private static Tensor batched(Tensor a, Tensor b) {
        Tensor a3 = a.dim() == 1 ? a.unsqueeze(0) : a;
        Tensor b3 = b.dim() == 1 ? b.unsqueeze(1) : b;
        int[] sa = a3.shape();
        int[] sb = b3.shape();
        int[] batchA = Arrays.copyOf(sa, sa.length - 2);
        int[] batchB = Arrays.copyOf(sb, sb.length - 2);
        int[] batch = Shapes.broadcast("matmul", batchA, batchB);
        int m = sa[sa.length - 2];
        int k = sa[sa.length - 1];
        int n = sb[sb.length - 1];
        int count = Shapes.numel(batch);
        Tensor ea = a3.expand(concat(batch, m, k)).reshape(count, m, k);
        Tensor eb = b3.expand(concat(batch, k, n)).reshape(count, k, n);
        Tensor out = Bmm.apply(ea, eb).reshape(concat(batch, m, n));
        if (a.dim() == 1) {
            out = out.squeeze(-2);
        }
        if (b.dim() == 1) {
            out = out.squeeze(-1);
        }
        return out;
    }

    private static int[] concat(int[] batch, int r, int c) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = r;
        s[batch.length + 1] = c;
        return s;
    }
}
