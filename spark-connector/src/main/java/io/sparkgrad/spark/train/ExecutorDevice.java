package io.sparkgrad.spark.train;

import io.sparkgrad.Device;
import io.sparkgrad.Tensor;
import io.sparkgrad.backend.opencl.ClPlatforms;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device an executor trains or scores on (the trainer's replicas, the Spark ML models'
 * transform), resolved on the executor from the setting, since only the executor knows which
 * OpenCL devices its machine has: {@code cpu}; {@code opencl:N}; or
 * {@code opencl}, where each new replica on the executor takes the next of its devices in turn,
 * so concurrent tasks on a machine with several devices spread over them.
 */
public final class ExecutorDevice {
    private static final AtomicInteger NEXT = new AtomicInteger();

    private ExecutorDevice() {
    }

    /** Checks the setting's form on the driver, before any Spark job. */
    static void validate(String setting) {
        if (setting == null) {
            throw new IllegalArgumentException("device must be cpu, opencl or opencl:N, not null");
        }
        Device.of(setting); // throws, naming the accepted forms
    }

    /** This executor's device for a new replica or scoring task; a clear error if the setting asks for OpenCL and there is none. */
    public static Device pick(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return Device.CPU;
        }
        if (!ClPlatforms.available()) {
            throw new IllegalStateException("device=" + setting + " but this executor (" + host() + ") has no OpenCL "
                    + "device: " + ClPlatforms.unavailableReason() + "; install pocl-opencl-icd ocl-icd-libopencl1 "
                    + "(CPU driver) or the GPU vendor's OpenCL ICD on every worker, or set device=cpu");
        }
        if (s.equals("opencl")) {
            return Device.opencl(Math.floorMod(NEXT.getAndIncrement(), ClPlatforms.count()));
        }
        return Device.of(setting);
    }

    /** {@code t} on {@code device} (null stays null: no weight column). */
    static Tensor place(Tensor t, Device device) {
        return t == null || device.isCpu() ? t : t.to(device);
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "unknown host";
        }
    }
}
