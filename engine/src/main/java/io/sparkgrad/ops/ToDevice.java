package io.sparkgrad.ops;

import io.sparkgrad.Device;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.opencl.ClOps;

/**
 * A copy on another device ({@code x.to(device)}); PyTorch records it as a ToCopy too.
 * <br>{@code x: grad.to(x.device)}.
 */
public final class ToDevice extends Node {
    private Device source;

    private ToDevice() {
        super("ToCopyBackward0");
    }

    public static Tensor apply(Tensor x, Device target) {
        if (x.device().equals(target)) {
            return x;
        }
        Tensor out = ClOps.move(x.detach(), target);
        if (!x.dtype().isFloatingPoint() || !Graph.needsGrad(x)) {
            return out;
        }
        ToDevice node = new ToDevice();
        node.source = x.device();
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {grad.to(source)};
    }
}
