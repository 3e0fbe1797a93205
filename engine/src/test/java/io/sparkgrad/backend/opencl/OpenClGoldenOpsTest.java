package io.sparkgrad.backend.opencl;

import io.sparkgrad.GoldenOpsTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/**
 * {@link GoldenOpsTest}'s PyTorch golden cases (values, grad_fn names and gradients) with every
 * input tensor, index tensor and upstream gradient on {@code opencl:0}: each op must run there,
 * keep its output and gradients there, and match PyTorch's float64 numbers to within 1e-9 (the
 * conformance suite's float64 tolerance; the device's exp, log and reduction order differ from
 * the CPU's in the last bits). No case is skipped: an op the backend cannot run fails.
 */
class OpenClGoldenOpsTest {
    /** Absolute and relative tolerance on the device (float64). */
    private static final double TOL = 1e-9;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    @TestFactory
    Stream<DynamicNode> goldenOpsOnOpenCl() {
        return GoldenOpsTest.goldenOps(OpenClAvailable.DEVICE, TOL);
    }
}
