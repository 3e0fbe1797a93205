package io.sparkgrad.backend.opencl;

import io.sparkgrad.Device;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The OpenCL tests' guard: skip, saying why, on machines without an OpenCL platform. */
final class OpenClAvailable {
    static final Device DEVICE = Device.opencl(0);

    private OpenClAvailable() {
    }

    static void assume() {
        assumeTrue(ClPlatforms.available(), () -> "skipped: no OpenCL device here (" + ClPlatforms.unavailableReason()
                + "); " + ClPlatforms.INSTALL_HINT);
    }
}
