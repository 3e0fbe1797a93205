package io.sparkgrad.backend.opencl;

import io.sparkgrad.GoldenOpsTest;
import io.sparkgrad.OpGradientTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;

import java.util.stream.Stream;

/**
 * The engine's op suites against {@code opencl:0} (issue 7), float64 throughout, within 1e-9
 * absolute plus relative (the conformance suite's float64 tolerance: the device's exp, log and
 * reduction order differ from the CPU's in the last bits). No case is skipped: an op the backend
 * cannot run fails its case.
 */
class OpenClOpSuitesTest {
    private static final double TOL = 1e-9;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    /**
     * {@link GoldenOpsTest}'s PyTorch cases (values, grad_fn names and gradients) with every input,
     * index tensor and upstream gradient on the device; outputs and gradients must stay there and
     * match PyTorch's numbers.
     */
    @TestFactory
    Stream<DynamicNode> goldenOps() {
        return GoldenOpsTest.goldenOps(OpenClAvailable.DEVICE, TOL);
    }

    /**
     * {@link OpGradientTest}'s gradient-check cases (same seeded shapes, values and layouts:
     * transposed, step-sliced, expanded, broadcast) with every input on the device, each compared
     * with the same case on the CPU instead of finite differences: the forward value and the
     * gradient of every differentiable input, first and second order.
     */
    @TestFactory
    Stream<DynamicNode> opGradients() {
        return OpGradientTest.onDevice(OpenClAvailable.DEVICE, TOL);
    }
}
