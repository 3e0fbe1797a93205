package io.sparkgrad.backend.opencl;

import io.sparkgrad.Device;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The OpenCL devices of this machine, in platform order, found once. {@code opencl:N} is the N-th
 * of them. When there is no driver (or no OpenCL loader at all) the list is empty and the reason is
 * kept, so asking for a device can say what to install.
 */
public final class ClPlatforms {
    /** What to install, said in every "no OpenCL" error. */
    static final String INSTALL_HINT = "install an OpenCL driver and the ICD loader (Debian/Ubuntu: "
            + "apt-get install pocl-opencl-icd ocl-icd-libopencl1 for the portable CPU driver, or your GPU vendor's "
            + "OpenCL ICD); clinfo lists what the machine offers";

    /** One device: its platform, handle and a readable name. */
    record Found(cl_platform_id platform, cl_device_id id, String name) {
    }

    private static volatile List<Found> devices;
    private static volatile String unavailableReason;

    private ClPlatforms() {
    }

    /** True when at least one OpenCL device can be opened here. Never throws. */
    public static boolean available() {
        return !devices().isEmpty();
    }

    /** Why no OpenCL device is available (null when one is). */
    public static String unavailableReason() {
        devices();
        return unavailableReason;
    }

    /** Number of OpenCL devices found. */
    public static int count() {
        return devices().size();
    }

    /** The names of the devices, for messages and benchmarks. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (Found f : devices()) {
            out.add(f.name());
        }
        return out;
    }

    static Found find(Device device) {
        List<Found> all = devices();
        if (all.isEmpty()) {
            throw new IllegalStateException("cannot use " + device + ": " + unavailableReason + "; " + INSTALL_HINT);
        }
        if (device.index() >= all.size()) {
            throw new IllegalArgumentException("cannot use " + device + ": this machine has " + all.size()
                    + " OpenCL device(s): " + names());
        }
        return all.get(device.index());
    }

    private static List<Found> devices() {
        List<Found> d = devices;
        if (d == null) {
            synchronized (ClPlatforms.class) {
                if (devices == null) {
                    devices = discover();
                }
                d = devices;
            }
        }
        return d;
    }

    private static List<Found> discover() {
        try {
            CL.setExceptionsEnabled(true);
            int[] count = new int[1];
            try {
                CL.clGetPlatformIDs(0, null, count);
            } catch (RuntimeException e) {
                // The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no driver is registered.
                unavailableReason = "no OpenCL platform found (" + e.getMessage() + ")";
                return Collections.emptyList();
            }
            if (count[0] == 0) {
                unavailableReason = "no OpenCL platform found";
                return Collections.emptyList();
            }
            cl_platform_id[] platforms = new cl_platform_id[count[0]];
            CL.clGetPlatformIDs(platforms.length, platforms, null);
            List<Found> found = new ArrayList<>();
            for (cl_platform_id p : platforms) {
                int[] n = new int[1];
                try {
                    CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, 0, null, n);
                } catch (RuntimeException e) {
                    continue; // a platform without devices (CL_DEVICE_NOT_FOUND)
                }
                cl_device_id[] ids = new cl_device_id[n[0]];
                CL.clGetDeviceIDs(p, CL.CL_DEVICE_TYPE_ALL, ids.length, ids, null);
                for (cl_device_id id : ids) {
                    found.add(new Found(p, id, deviceString(id, CL.CL_DEVICE_NAME)));
                }
            }
            if (found.isEmpty()) {
                unavailableReason = "OpenCL platforms exist but offer no device";
            }
            return Collections.unmodifiableList(found);
        } catch (LinkageError e) {
            unavailableReason = "JOCL's native library or the OpenCL loader (libOpenCL.so.1) could not be loaded (" + e + ")";
            return Collections.emptyList();
        }
    }

    static String deviceString(cl_device_id id, int param) {
        long[] size = new long[1];
        CL.clGetDeviceInfo(id, param, 0, null, size);
        byte[] buf = new byte[(int) size[0]];
        CL.clGetDeviceInfo(id, param, buf.length, Pointer.to(buf), null);
        return new String(buf, 0, Math.max(0, buf.length - 1), StandardCharsets.UTF_8).trim();
    }

    static long deviceLong(cl_device_id id, int param) {
        long[] v = new long[1];
        CL.clGetDeviceInfo(id, param, Long.BYTES, Pointer.to(v), null);
        return v[0];
    }
}
