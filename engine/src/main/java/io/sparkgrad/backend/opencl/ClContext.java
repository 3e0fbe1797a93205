package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One OpenCL device opened for the life of the JVM: its context, one in-order command queue, its
 * programs (built once, on first use, then cached with their kernels) and the accounting of the
 * device memory allocated through it. Launches are serialized on the context because a
 * {@code cl_kernel}'s arguments are shared state.
 */
final class ClContext {
    private static final Map<Device, ClContext> OPEN = new ConcurrentHashMap<>();

    final Device device;
    final String name;
    final boolean fp64;
    private final cl_context context;
    private final cl_command_queue queue;
    private final Map<String, cl_program> programs = new ConcurrentHashMap<>();
    private final Map<String, cl_kernel> kernels = new ConcurrentHashMap<>();
    private final AtomicLong programBuilds = new AtomicLong();
    /** Above this many live bytes an allocation first asks the GC to run the Cleaner on dropped tensors. */
    private final long softLimit;
    final DeviceMemoryScope root;

    private ClContext(Device device) {
        ClPlatforms.Found found = ClPlatforms.find(device);
        this.device = device;
        this.name = found.name();
        this.fp64 = ClPlatforms.deviceString(found.id(), CL.CL_DEVICE_EXTENSIONS).contains("cl_khr_fp64");
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL.CL_CONTEXT_PLATFORM, found.platform());
        this.context = CL.clCreateContext(props, 1, new cl_device_id[] {found.id()}, null, null, null);
        @SuppressWarnings("deprecation")
        cl_command_queue q = CL.clCreateCommandQueue(context, found.id(), 0, null);
        this.queue = q;
        this.softLimit = ClPlatforms.deviceLong(found.id(), CL.CL_DEVICE_GLOBAL_MEM_SIZE) / 4 * 3;
        this.root = DeviceMemoryScope.root(this);
    }

    /** The opened context of {@code device}, opening it on first use (a clear error when there is none). */
    static ClContext of(Device device) {
        if (device.isCpu()) {
            throw new IllegalArgumentException("cpu is not an OpenCL device");
        }
        ClContext c = OPEN.get(device);
        return c != null ? c : OPEN.computeIfAbsent(device, ClContext::new);
    }

    /** How many programs this context has built (each is built once; tests check the cache holds). */
    long programBuilds() {
        return programBuilds.get();
    }

    // ------------------------------------------------------------------ memory

    cl_mem allocate(long bytes) {
        if (root.contextLiveBytes() + bytes > softLimit) {
            System.gc(); // dropped tensors' buffers are freed by the Cleaner once the GC has seen them
        }
        try {
            return CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, Math.max(bytes, 8), null, null);
        } catch (CLException e) {
            if (e.getStatus() != CL.CL_MEM_OBJECT_ALLOCATION_FAILURE && e.getStatus() != CL.CL_OUT_OF_RESOURCES) {
                throw e;
            }
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return CL.clCreateBuffer(context, CL.CL_MEM_READ_WRITE, Math.max(bytes, 8), null, null);
        }
    }

    void write(cl_mem mem, long offsetBytes, long bytes, Pointer host) {
        synchronized (this) {
            CL.clEnqueueWriteBuffer(queue, mem, CL.CL_TRUE, offsetBytes, bytes, host, 0, null, null);
        }
    }

    void read(cl_mem mem, long offsetBytes, long bytes, Pointer host) {
        synchronized (this) {
            CL.clEnqueueReadBuffer(queue, mem, CL.CL_TRUE, offsetBytes, bytes, host, 0, null, null);
        }
    }

    /** Waits for every enqueued kernel (benchmarks time whole operations, not enqueues). */
    void finish() {
        synchronized (this) {
            CL.clFinish(queue);
        }
    }

    // ------------------------------------------------------------------ kernels

    /** The kernel {@code name} of the math program for {@code dtype}, or of the conversion program. */
    cl_kernel kernel(String program, String name) {
        String key = program + '/' + name;
        cl_kernel k = kernels.get(key);
        if (k == null) {
            synchronized (this) {
                k = kernels.get(key);
                if (k == null) {
                    k = CL.clCreateKernel(program(program), name, null);
                    kernels.put(key, k);
                }
            }
        }
        return k;
    }

    /** The math program's name for a dtype ({@code math.cl} built for float or double). */
    String mathProgram(DType dtype) {
        if (dtype == DType.FLOAT64) {
            if (!fp64) {
                throw new UnsupportedOperationException(device + " (" + name
                        + ") has no double precision (cl_khr_fp64); use float32 tensors there");
            }
            return "math-double";
        }
        if (dtype != DType.FLOAT32) {
            throw new IllegalArgumentException("no OpenCL math kernels for " + dtype + " (float32 and float64 only)");
        }
        return "math-float";
    }

    private cl_program program(String key) {
        cl_program p = programs.get(key);
        if (p != null) {
            return p;
        }
        String source;
        String options;
        String fp = fp64 ? " -DSG_FP64" : "";
        switch (key) {
            case "math-float": source = mathSource(); options = "-DT=float" + fp; break;
            case "math-double": source = mathSource(); options = "-DT=double -DSG_FP64"; break;
            case "convert": source = resource("strided.cl") + "\n" + resource("convert.cl"); options = fp.trim(); break;
            default: throw new IllegalArgumentException("unknown OpenCL program " + key);
        }
        p = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            CL.clBuildProgram(p, 0, null, options, null, null);
        } catch (CLException e) {
            throw new IllegalStateException("building the OpenCL program " + key + " for " + device + " (" + name
                    + ") failed: " + buildLog(p), e);
        }
        programBuilds.incrementAndGet();
        programs.put(key, p);
        return p;
    }

    private String buildLog(cl_program p) {
        try {
            long[] size = new long[1];
            cl_device_id[] ids = new cl_device_id[1];
            CL.clGetProgramInfo(p, CL.CL_PROGRAM_DEVICES, org.jocl.Sizeof.cl_device_id, Pointer.to(ids), null);
            CL.clGetProgramBuildInfo(p, ids[0], CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] log = new byte[(int) size[0]];
            CL.clGetProgramBuildInfo(p, ids[0], CL.CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
            return new String(log, StandardCharsets.UTF_8).trim();
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    /**
     * The math program's source: the general kernels and, one concept per file, those of single
     * ops, built as one program so each dtype still costs one build.
     */
    private static String mathSource() {
        return resource("strided.cl") + "\n" + resource("math.cl") + "\n" + resource("pool.cl") + "\n"
                + resource("optim.cl");
    }

    private static String resource(String file) {
        try (InputStream in = ClContext.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("OpenCL kernel source " + file + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Work-group size of 1-D launches that do not ask for one. Fixed on purpose: a driver such as
     * PoCL compiles a kernel once per work-group size, so letting it choose per global size would
     * recompile the same kernel for every new tensor size.
     */
    static final int DEFAULT_LOCAL = 64;

    /**
     * Sets the arguments and enqueues {@code kernel} over {@code global} work-items. A 1-D launch
     * without a {@code local} size runs in groups of {@link #DEFAULT_LOCAL}, its global size rounded
     * up (the kernels ignore work-items past their element count).
     */
    void launch(cl_kernel kernel, KernelArgs args, long[] global, long[] local) {
        if (local == null && global.length == 1) {
            local = new long[] {DEFAULT_LOCAL};
            global = new long[] {(global[0] + DEFAULT_LOCAL - 1) / DEFAULT_LOCAL * DEFAULT_LOCAL};
        }
        synchronized (this) {
            args.applyTo(kernel);
            CL.clEnqueueNDRangeKernel(queue, kernel, global.length, null, global, local, 0, null, null);
        }
    }
}
