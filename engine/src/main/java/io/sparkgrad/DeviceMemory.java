package io.sparkgrad;

/**
 * The memory behind a {@link Storage} that lives on an accelerator rather than in a Java array.
 * Implemented by a backend (the OpenCL one: {@code io.sparkgrad.backend.opencl.ClBuffer}); the
 * core only needs to know where it is and how many elements it holds.
 */
public interface DeviceMemory {
    Device device();

    /** Number of elements (of the storage's dtype). */
    int size();
}
