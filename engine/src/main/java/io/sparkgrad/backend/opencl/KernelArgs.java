package io.sparkgrad.backend.opencl;

import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;

import java.util.ArrayList;
import java.util.List;

/** The arguments of one launch, in order, set on the kernel just before it is enqueued. */
final class KernelArgs {
    private final List<Long> sizes = new ArrayList<>();
    private final List<Pointer> values = new ArrayList<>();

    KernelArgs mem(cl_mem m) {
        return add(Sizeof.cl_mem, Pointer.to(m));
    }

    KernelArgs i(int v) {
        return add(Sizeof.cl_int, Pointer.to(new int[] {v}));
    }

    /** Up to eight ints as one {@code int8} (shapes and strides), unused lanes 0. */
    KernelArgs i8(int[] v) {
        if (v.length > 8) {
            throw new IllegalArgumentException("OpenCL kernels take tensors of at most 8 dimensions, got " + v.length);
        }
        return add(8L * Sizeof.cl_int, Pointer.to(java.util.Arrays.copyOf(v, 8)));
    }

    /** Four ints as one {@code int4}. */
    KernelArgs i4(int[] v) {
        return add(4L * Sizeof.cl_int, Pointer.to(java.util.Arrays.copyOf(v, 4)));
    }

    KernelArgs f32(float v) {
        return add(Sizeof.cl_float, Pointer.to(new float[] {v}));
    }

    KernelArgs f64(double v) {
        return add(Sizeof.cl_double, Pointer.to(new double[] {v}));
    }

    KernelArgs i64(long v) {
        return add(Sizeof.cl_long, Pointer.to(new long[] {v}));
    }

    /** A {@code __local} buffer of this many bytes. */
    KernelArgs local(long bytes) {
        return add(bytes, null);
    }

    private KernelArgs add(long size, Pointer value) {
        sizes.add(size);
        values.add(value);
        return this;
    }

    void applyTo(cl_kernel kernel) {
        for (int i = 0; i < sizes.size(); i++) {
            CL.clSetKernelArg(kernel, i, sizes.get(i), values.get(i));
        }
    }
}
