package io.sparkgrad.spark.ml;

import io.sparkgrad.Device;
import io.sparkgrad.backend.opencl.ClPlatforms;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The device a model scores on, resolved on the executor from the model's {@code device} param
 * (only the executor knows its OpenCL devices), by the rules training uses: {@code cpu};
 * {@code opencl:N}; or {@code opencl}, where each partition takes the executor's next device in
 * turn, so concurrent tasks on a machine with several devices spread over them.
 */
final class ScoringDevice {
    private static final AtomicInteger NEXT = new AtomicInteger();

    private ScoringDevice() {
    }

    /** This executor's device for one partition; a clear error when the setting asks for OpenCL and there is none. */
    static Device pick(String setting) {
        String s = setting.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return Device.CPU;
        }
        if (!ClPlatforms.available()) {
            throw new IllegalStateException("device=" + setting + " but this executor has no OpenCL device to score "
                    + "on: " + ClPlatforms.unavailableReason() + "; install pocl-opencl-icd ocl-icd-libopencl1 (CPU "
                    + "driver) or the GPU vendor's OpenCL ICD on every worker, or set the model's device to cpu");
        }
        if (s.equals("opencl")) {
            return Device.opencl(Math.floorMod(NEXT.getAndIncrement(), ClPlatforms.count()));
        }
        return Device.of(setting);
    }
}
