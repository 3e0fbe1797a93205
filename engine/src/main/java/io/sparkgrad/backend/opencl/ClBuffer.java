package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.DeviceMemory;
import org.jocl.CL;
import org.jocl.cl_mem;

import java.lang.ref.Cleaner;

/**
 * A {@code cl_mem} behind one storage. Nobody closes it: when the storage (and so this object)
 * becomes unreachable a {@link Cleaner} releases the device memory, and the scope it was allocated
 * in can release it early ({@link DeviceMemoryScope#close()}). Either way the release is counted
 * once in the scope's and the context's accounting.
 */
public final class ClBuffer implements DeviceMemory {
    private static final Cleaner CLEANER = Cleaner.create();

    final ClContext context;
    private final int size;
    private final Release release;

    private ClBuffer(ClContext context, int size, Release release) {
        this.context = context;
        this.size = size;
        this.release = release;
    }

    /** A new buffer of {@code size} elements of {@code dtype}, owned by the calling thread's current scope. */
    static ClBuffer allocate(ClContext context, DType dtype, int size) {
        long bytes = (long) size * dtype.byteSize();
        cl_mem mem = context.allocate(bytes);
        DeviceMemoryScope owner = DeviceMemoryScope.current(context);
        Release release = new Release(mem, bytes, owner);
        ClBuffer buffer = new ClBuffer(context, size, release);
        owner.adopt(release);
        CLEANER.register(buffer, release);
        return buffer;
    }

    @Override
    public Device device() {
        return context.device;
    }

    @Override
    public int size() {
        return size;
    }

    /** The memory object, or a clear error if its scope already released it. */
    cl_mem mem() {
        cl_mem m = release.mem;
        if (m == null) {
            throw new IllegalStateException("this tensor's memory on " + context.device
                    + " was released when its DeviceMemoryScope closed; keep it with scope.keep(tensor) to use it after");
        }
        return m;
    }

    long bytes() {
        return release.bytes;
    }

    Release release() {
        return release;
    }

    /**
     * Releases the memory once. Holds no reference to the buffer (a Cleaner action must not, or
     * the buffer would never become unreachable).
     */
    static final class Release implements Runnable {
        private volatile cl_mem mem;
        final long bytes;
        volatile DeviceMemoryScope owner;

        Release(cl_mem mem, long bytes, DeviceMemoryScope owner) {
            this.mem = mem;
            this.bytes = bytes;
            this.owner = owner;
        }

        boolean live() {
            return mem != null;
        }

        @Override
        public void run() {
            cl_mem m;
            synchronized (this) {
                m = mem;
                mem = null;
            }
            if (m != null) {
                // OpenCL keeps the memory until enqueued kernels that use it have finished.
                CL.clReleaseMemObject(m);
                owner.released(this);
            }
        }
    }
}
