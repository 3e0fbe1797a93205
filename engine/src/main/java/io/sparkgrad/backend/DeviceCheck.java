package io.sparkgrad.backend;

import io.sparkgrad.Device;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

/**
 * Which device an op runs on, and the error when its operands disagree. As in PyTorch, a 0-d
 * tensor on the CPU (a Python-number-like scalar) may join an op on any device; every other
 * operand must be on one device.
 */
public final class DeviceCheck {
    private DeviceCheck() {
    }

    /** True when some operand lives on an accelerator: the op dispatches to that backend. */
    public static boolean anyOnDevice(Tensor a) {
        return a.storage().onDevice();
    }

    public static boolean anyOnDevice(Tensor a, Tensor b) {
        return a.storage().onDevice() || b.storage().onDevice();
    }

    public static boolean anyOnDevice(Tensor a, Tensor b, Tensor c) {
        return a.storage().onDevice() || b.storage().onDevice() || c.storage().onDevice();
    }

    /** The device the operands share (CPU scalars aside); a clear error naming op and both devices if not. */
    public static Device common(String op, Tensor... operands) {
        Device found = null;
        Tensor first = null;
        for (Tensor t : operands) {
            if (t == null) {
                continue;
            }
            Device d = t.device();
            if (d.isCpu() && t.dim() == 0) {
                continue;
            }
            if (found == null) {
                found = d;
                first = t;
            } else if (!found.equals(d)) {
                throw new IllegalArgumentException(op + ": expected all tensors to be on the same device, but found "
                        + "at least two devices, " + found + " (shape " + Shapes.str(first.shape()) + ") and " + d
                        + " (shape " + Shapes.str(t.shape()) + "); move one with .to(device)");
            }
        }
        return found != null ? found : Device.CPU;
    }
}
