package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.Layout;

/**
 * {@code out = min(max(x, min), max)}; a NaN bound means no bound on that side; NaN inputs stay NaN.
 * <br>{@code x: grad * (min <= x <= max)}.
 */
public final class Clamp extends Node {
    private SavedTensor input;
    private double min;
    private double max;

    private Clamp() {
        super("ClampBackward1");
    }

    public static Tensor apply(Tensor x, double min, double max) {
        Ops.requireFloat("clamp", x);
        if (Double.isNaN(min) && Double.isNaN(max)) {
            throw new IllegalArgumentException("clamp: at least one of min and max must be given");
        }
        Tensor out = x.storage().onDevice() ? io.sparkgrad.backend.opencl.ClOps.clamp(x, min, max) : Layout.contiguousCopy(x);
        int n = x.storage().onDevice() ? 0 : out.numel();
        for (int i = 0; i < n; i++) {
            double v = out.storage().getAsDouble(i);
            if (!Double.isNaN(min) && v < min) {
                v = min;
            }
            if (!Double.isNaN(max) && v > max) {
                v = max;
            }
            if (out.dtype() == DType.FLOAT32) {
                out.storage().floats()[i] = (float) v;
            } else {
                out.storage().doubles()[i] = v;
            }
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Clamp node = new Clamp();
        node.input = node.save(x);
        node.min = min;
        node.max = max;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = input.unpack().detach();
        Tensor keep = Tensor.onesLike(x);
        if (!Double.isNaN(min)) {
            keep = Elementwise.binary(BinaryKernel.MUL, keep, Ops.mask(BinaryKernel.GE, x, min), "clamp");
        }
        if (!Double.isNaN(max)) {
            Tensor belowMax = Elementwise.binary(BinaryKernel.GE, Tensor.scalar(max, x.dtype()), x, "clamp");
            keep = Elementwise.binary(BinaryKernel.MUL, keep, belowMax, "clamp");
        }
        return new Tensor[] {grad.mul(keep)};
    }
}
