package io.sparkgrad;

import java.util.Locale;

/**
 * Where a tensor's values live: {@code cpu} (a Java array on the heap) or {@code opencl:N}, the
 * N-th OpenCL device of the machine (all platforms' devices counted in platform order). Ops run
 * on their operands' device; {@link Tensor#to(Device)} moves a tensor, differentiably.
 *
 * <pre>{@code
 * Device gpu = Device.of("opencl:0");
 * Tensor x = Tensor.randn(64, 10).to(gpu);
 * }</pre>
 */
public final class Device {
    /** The kinds of device Sparkgrad computes on. */
    public enum Kind { CPU, OPENCL }

    public static final Device CPU = new Device(Kind.CPU, 0);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** The {@code index}-th OpenCL device. Nothing is opened until a tensor is placed there. */
    public static Device opencl(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("OpenCL device index must be at least 0, got " + index);
        }
        return new Device(Kind.OPENCL, index);
    }

    /** Parses {@code cpu}, {@code opencl} (device 0) or {@code opencl:N}, as PyTorch's {@code torch.device("cuda:1")}. */
    public static Device of(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("opencl")) {
            return opencl(0);
        }
        if (s.startsWith("opencl:")) {
            try {
                return opencl(Integer.parseInt(s.substring("opencl:".length())));
            } catch (NumberFormatException e) {
                // falls through to the error below, which names the accepted forms
            }
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': expected cpu, opencl or opencl:N");
    }

    public Kind kind() {
        return kind;
    }

    public int index() {
        return index;
    }

    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device && ((Device) o).kind == kind && ((Device) o).index == index;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + index;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "opencl:" + index;
    }
}
