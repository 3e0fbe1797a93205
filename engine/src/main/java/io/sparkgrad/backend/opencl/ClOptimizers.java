package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

/**
 * Optimizer updates of parameters that live on an OpenCL device, in place there ({@code optim.cl}):
 * the optimizers call these instead of reading every parameter, gradient and state buffer back to
 * the host and writing them out again each step.
 *
 * <p>The optimizer asks {@link #canUpdate} first, before it creates any state, so a parameter
 * these kernels cannot take (strided, or with state loaded onto the CPU) goes through its element
 * loop from its first step on. The caller moves the version counters.
 */
public final class ClOptimizers {
    private ClOptimizers() {
    }

    /**
     * Whether the kernels can update {@code param} with {@code grad} and this state: the parameter
     * a contiguous float32 or float64 tensor on an OpenCL device, the gradient of its dtype, shape
     * and device (any layout: it is copied on the device first), each state buffer a contiguous
     * tensor of the same, or null where the optimizer is about to create it like the parameter.
     */
    public static boolean canUpdate(Tensor param, Tensor grad, Tensor... state) {
        if (!param.storage().onDevice() || !param.isContiguous() || !param.dtype().isFloatingPoint()
                || !sameKind(param, grad)) {
            return false;
        }
        for (Tensor s : state) {
            if (s != null && (!sameKind(param, s) || !s.isContiguous())) {
                return false;
            }
        }
        return true;
    }

    /**
     * SGD ({@code io.sparkgrad.optim.SGD}'s rule): {@code momentumBuffer} null without momentum,
     * {@code first} when the buffer is new. Computes in the parameter's dtype, as the CPU does.
     */
    public static void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, double lr, double momentum,
                                  double dampening, double weightDecay, boolean nesterov, boolean maximize,
                                  boolean first) {
        require(canUpdate(param, grad, momentumBuffer), "sgd", param);
        Tensor d = contiguous(grad);
        int n = param.numel();
        if (n == 0) {
            return;
        }
        DType t = param.dtype();
        ClContext c = ClOps.context(param);
        Tensor b = momentumBuffer != null ? momentumBuffer : param;
        KernelArgs args = new KernelArgs().mem(ClOps.mem(param)).i(param.storageOffset()).mem(ClOps.mem(d))
                .i(d.storageOffset()).mem(ClOps.mem(b)).i(b.storageOffset()).i(n);
        ClOps.scalarArg(args, t, lr);
        ClOps.scalarArg(args, t, weightDecay);
        // The CPU's float32 loop always adds wd * p (0 * p when there is no decay); its float64 loop
        // only when there is a decay. They differ only for an infinite or NaN parameter.
        args.i(t == DType.FLOAT32 || weightDecay != 0 ? 1 : 0);
        ClOps.scalarArg(args, t, maximize ? -1 : 1);
        ClOps.scalarArg(args, t, momentum);
        ClOps.scalarArg(args, t, 1 - dampening);
        args.i(momentumBuffer != null ? 1 : 0).i(first ? 1 : 0).i(nesterov ? 1 : 0);
        c.launch(c.kernel(c.mathProgram(t), "sgd_step"), args, new long[] {n}, null);
    }

    /**
     * Adam, or AdamW when {@code decoupled} ({@code io.sparkgrad.optim.Adam}'s rule), with the
     * step's scalars as the optimizer computed them; {@code maxExpAvgSq} null without AMSGrad.
     */
    public static void adamStep(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor maxExpAvgSq,
                                   double beta1, double beta2, double eps, double weightDecay, double decay,
                                   double stepSize, double biasCorrection2Sqrt, boolean decoupled, boolean maximize) {
        require(canUpdate(param, grad, expAvg, expAvgSq, maxExpAvgSq) && expAvg != null && expAvgSq != null,
                "adam", param);
        Tensor d = contiguous(grad);
        int n = param.numel();
        if (n == 0) {
            return;
        }
        ClContext c = ClOps.context(param);
        Tensor vmax = maxExpAvgSq != null ? maxExpAvgSq : expAvgSq;
        KernelArgs args = new KernelArgs().mem(ClOps.mem(param)).i(param.storageOffset()).mem(ClOps.mem(d))
                .i(d.storageOffset()).mem(ClOps.mem(expAvg)).i(expAvg.storageOffset()).mem(ClOps.mem(expAvgSq))
                .i(expAvgSq.storageOffset()).mem(ClOps.mem(vmax)).i(vmax.storageOffset())
                .i(maxExpAvgSq != null ? 1 : 0).i(n);
        // The kernel accumulates in double where the device has it (as the CPU loop does), else in float.
        DType acc = c.fp64 ? DType.FLOAT64 : DType.FLOAT32;
        for (double v : new double[] {beta1, beta2, eps, weightDecay, decay, stepSize, biasCorrection2Sqrt}) {
            ClOps.scalarArg(args, acc, v);
        }
        args.i(decoupled ? 1 : 0).i(maximize ? 1 : 0);
        c.launch(c.kernel(c.mathProgram(param.dtype()), "adam_step"), args, new long[] {n}, null);
    }

    private static boolean sameKind(Tensor param, Tensor t) {
        return t.device().equals(param.device()) && t.dtype() == param.dtype()
                && java.util.Arrays.equals(t.shape(), param.shape());
    }

    private static Tensor contiguous(Tensor t) {
        return t.isContiguous() ? t : ClOps.contiguousCopy(t);
    }

    private static void require(boolean ok, String op, Tensor param) {
        if (!ok) {
            throw new IllegalArgumentException(op + " on " + param.device() + ": the parameter, its gradient and "
                    + "its state must be contiguous tensors of one dtype and shape on that device (ask canUpdate)");
        }
    }
}
