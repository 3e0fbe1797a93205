package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = a + b} (broadcast).
 * <br>{@code a: grad}, {@code b: grad} (the engine sums each back to its input's shape).
 */
public final class Add extends Node {
    private Add() {
        super("AddBackward0");
    }

    public static Tensor apply(Tensor a, Tensor b) {
        DType t = Ops.common("add", a, b);
        Tensor out = Elementwise.binary(BinaryKernel.ADD, Ops.cast(a, t), Ops.cast(b, t), "add");
        return Graph.needsGrad(a, b) ? Graph.record(new Add(), out, a, b) : out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad, grad};
    }
}
