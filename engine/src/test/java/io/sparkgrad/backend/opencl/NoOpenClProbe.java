package io.sparkgrad.backend.opencl;

import io.sparkgrad.Tensor;

/** Run in a JVM without an OpenCL driver by {@link OpenClDeviceTest}: prints what a user would see. */
public final class NoOpenClProbe {
    private NoOpenClProbe() {
    }

    public static void main(String[] args) {
        System.out.println("available: " + ClPlatforms.available());
        try {
            Tensor.ones(3).to("opencl:0");
            System.out.println("unexpected: a tensor was moved to OpenCL");
        } catch (IllegalStateException e) {
            System.out.println(e.getMessage());
        }
        System.out.println("cpu still works: " + Tensor.ones(3).mul(2).sum().item());
    }
}
