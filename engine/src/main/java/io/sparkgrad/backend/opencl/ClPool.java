package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.ConvKernels;
import io.sparkgrad.backend.DeviceCheck;
import io.sparkgrad.backend.PoolKernels;

/**
 * Max pooling on an OpenCL device, the twin of {@link PoolKernels} that it calls when the input
 * lives on one: the maxima and their int64 positions stay on the device, where the backward pass
 * reads them. The kernels ({@code pool.cl}) walk each window as the CPU loop does, so values,
 * indices and gradients equal the CPU's exactly, ties and NaNs included.
 */
public final class ClPool {
    private ClPool() {
    }

    /** {@link PoolKernels#maxPool2d} for an input on an OpenCL device (any strides). */
    public static PoolKernels.MaxPooled maxPool2d(Tensor x, ConvKernels.Window g) {
        ClOps.requireFloat(x, "maxPool2d");
        int[] outShape = {g.batch(), g.channels(), g.outH(), g.outW()};
        Tensor values = ClOps.empty(x.dtype(), x.device(), outShape);
        Tensor indices = ClOps.empty(DType.INT64, x.device(), outShape);
        int total = values.numel();
        if (total > 0) {
            ClContext c = ClOps.context(x);
            KernelArgs args = new KernelArgs().mem(ClOps.mem(x)).i(x.storageOffset()).i4(x.stride())
                    .mem(ClOps.mem(values)).mem(ClOps.mem(indices));
            ClOps.window(args, g).i(total);
            c.launch(c.kernel(c.mathProgram(x.dtype()), "max_pool2d_op"), args, new long[] {total}, null);
        }
        return new PoolKernels.MaxPooled(values, indices);
    }

    /** {@link PoolKernels#maxPool2dBackward} for a gradient on an OpenCL device. */
    public static Tensor maxPool2dBackward(Tensor grad, Tensor indices, int[] inputShape) {
        ClOps.requireFloat(grad, "maxPool2dBackward");
        Device d = DeviceCheck.common("maxPool2dBackward", grad, indices);
        Tensor g = grad.isContiguous() ? grad : ClOps.contiguousCopy(grad);
        Tensor idx = indices.device().equals(d) ? indices : ClOps.upload(indices, d);
        idx = idx.isContiguous() ? idx : ClOps.contiguousCopy(idx);
        Tensor out = ClOps.zeros(grad.dtype(), d, inputShape);
        int planes = inputShape[0] * inputShape[1];
        if (planes > 0 && g.numel() > 0) {
            int planeOut = g.numel() / planes;
            int planeIn = inputShape[2] * inputShape[3];
            ClContext c = ClOps.context(out);
            KernelArgs args = new KernelArgs().mem(ClOps.mem(g)).i(g.storageOffset()).mem(ClOps.mem(idx))
                    .i(idx.storageOffset()).mem(ClOps.mem(out)).i(planeOut).i(planeIn).i(planes);
            c.launch(c.kernel(c.mathProgram(grad.dtype()), "max_pool2d_backward_op"), args, new long[] {planes},
                    null);
        }
        return out;
    }
}
