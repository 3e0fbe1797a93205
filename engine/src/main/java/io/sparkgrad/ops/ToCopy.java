package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;

/**
 * A copy converted to another dtype.
 * <br>{@code x: grad.to(x.dtype)} (the engine casts it back).
 */
public final class ToCopy extends Node {
    private ToCopy() {
        super("ToCopyBackward0");
    }

    public static Tensor apply(Tensor x, DType dtype) {
        Tensor out = Ops.cast(x, dtype);
        if (!dtype.isFloatingPoint() || !Graph.needsGrad(x)) {
            return out;
        }
        return Graph.record(new ToCopy(), out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad};
    }
}
