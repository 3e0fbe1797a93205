package io.sparkgrad;

import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch's autograd tutorial page ({@code shared/SEED-autograd-tutorial.txt}), block by block:
 * every printed outcome is asserted, exactly where the page's values are deterministic.
 */
class TutorialTest {
    private Tensor x;
    private Tensor y;
    private Tensor w;
    private Tensor b;

    @BeforeEach
    void oneLayerNetwork() {
        Tensor.manualSeed(0);
        x = Tensor.ones(5);
        y = Tensor.zeros(3);
        w = Tensor.randn(5, 3).requiresGrad_();
        b = Tensor.randn(3).requiresGrad_();
    }

    @Test
    void defaultsAreFloat32AndLeavesRequireGradOnlyWhenAsked() {
        assertEquals(DType.FLOAT32, x.dtype());
        assertArrayEquals(new int[] {5, 3}, w.shape());
        assertFalse(x.requiresGrad());
        assertTrue(w.requiresGrad());
        assertTrue(w.isLeaf());
        Tensor later = Tensor.ones(2).requiresGrad_(true);
        assertTrue(later.requiresGrad());
        assertEquals("tensor([1., 1.], requires_grad=True)", later.toString());
    }

    @Test
    void gradientFunctionsHavePyTorchsNames() {
        Tensor z = x.matmul(w).add(b);
        Tensor loss = F.binaryCrossEntropyWithLogits(z, y);
        assertEquals("AddBackward0", z.gradFn().name());
        assertEquals("BinaryCrossEntropyWithLogitsBackward0", loss.gradFn().name());
        assertEquals("Gradient function for z = <AddBackward0>", "Gradient function for z = " + z.gradFn());
    }

    @Test
    void lossGradientsEqualTheClosedForm() {
        Tensor z = x.matmul(w).add(b);
        Tensor loss = F.binaryCrossEntropyWithLogits(z, y);
        loss.backward();

        // d/dz mean(BCE(z, y)) = (sigmoid(z) - y) / 3; z = x·w + b, so dloss/db equals it and
        // every row i of dloss/dw is x_i times it.
        double[] zv = z.toDoubleArray();
        double[] yv = y.toDoubleArray();
        double[] expectedB = new double[3];
        for (int j = 0; j < 3; j++) {
            expectedB[j] = (1 / (1 + Math.exp(-zv[j])) - yv[j]) / 3;
        }
        assertArrayEquals(expectedB, b.grad().toDoubleArray(), 1e-7);
        double[] xv = x.toDoubleArray();
        double[] gw = w.grad().toDoubleArray();
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(xv[i] * expectedB[j], gw[i * 3 + j], 1e-7, "w.grad[" + i + "][" + j + "]");
            }
        }
        // Printed as PyTorch prints it: five identical rows of b.grad.
        String[] rows = w.grad().toString().split("\n");
        assertEquals(5, rows.length);
        String row = b.grad().toString().substring("tensor(".length(), b.grad().toString().length() - 1);
        assertEquals("tensor([" + row + ",", rows[0]);
        assertEquals("        " + row + "])", rows[4]);
    }

    @Test
    void gradIsOnlyKeptOnLeavesThatRequireIt() {
        Tensor z = x.matmul(w).add(b);
        Tensor loss = F.binaryCrossEntropyWithLogits(z, y);
        loss.backward();
        assertNotNull(w.grad());
        assertNull(x.grad(), "x does not require grad");
        assertNull(z.grad(), "z is not a leaf");
        assertFalse(z.isLeaf());
    }

    @Test
    void retainGradKeepsANonLeafGradient() {
        Tensor z = x.matmul(w).add(b).retainGrad();
        F.binaryCrossEntropyWithLogits(z, y).backward();
        assertNotNull(z.grad());
        assertTrue(z.grad().allClose(b.grad(), 0, 0));
    }

    @Test
    void secondBackwardThroughAFreedGraphFailsUnlessRetained() {
        Tensor z = x.matmul(w).add(b);
        Tensor loss = F.binaryCrossEntropyWithLogits(z, y);
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());

        Tensor z2 = x.matmul(w).add(b);
        Tensor loss2 = F.binaryCrossEntropyWithLogits(z2, y);
        loss2.backward(null, true);
        loss2.backward();
    }

    @Test
    void noGradAndDetachStopTracking() {
        Tensor z = x.matmul(w).add(b);
        assertTrue(z.requiresGrad());
        try (var g = GradMode.noGrad()) {
            z = x.matmul(w).add(b);
        }
        assertFalse(z.requiresGrad());
        assertTrue(GradMode.isEnabled(), "closing the scope restores grad mode");

        z = x.matmul(w).add(b);
        Tensor zDet = z.detach();
        assertFalse(zDet.requiresGrad());
        assertEquals(z.storage(), zDet.storage(), "detach shares storage");
    }

    @Test
    void jacobianProductsAccumulateUntilZeroed() {
        Tensor inp = Tensor.eye(5).requiresGrad_();
        Tensor out = inp.add(1).pow(2);
        out.backward(Tensor.onesLike(inp), true);
        assertEquals("tensor([[4., 2., 2., 2., 2.],\n"
                + "        [2., 4., 2., 2., 2.],\n"
                + "        [2., 2., 4., 2., 2.],\n"
                + "        [2., 2., 2., 4., 2.],\n"
                + "        [2., 2., 2., 2., 4.]])", inp.grad().toString());
        out.backward(Tensor.onesLike(inp), true);
        assertEquals("tensor([[8., 4., 4., 4., 4.],\n"
                + "        [4., 8., 4., 4., 4.],\n"
                + "        [4., 4., 8., 4., 4.],\n"
                + "        [4., 4., 4., 8., 4.],\n"
                + "        [4., 4., 4., 4., 8.]])", inp.grad().toString());
        inp.grad().zero_();
        out.backward(Tensor.onesLike(inp), true);
        assertEquals("tensor([[4., 2., 2., 2., 2.],\n"
                + "        [2., 4., 2., 2., 2.],\n"
                + "        [2., 2., 4., 2., 2.],\n"
                + "        [2., 2., 2., 4., 2.],\n"
                + "        [2., 2., 2., 2., 4.]])", inp.grad().toString());
    }

    @Test
    void backwardWithoutArgumentsEqualsBackwardOfOne() {
        Tensor loss1 = F.binaryCrossEntropyWithLogits(x.matmul(w).add(b), y);
        loss1.backward();
        double[] first = w.grad().toDoubleArray();
        w.grad().zero_();
        Tensor loss2 = F.binaryCrossEntropyWithLogits(x.matmul(w).add(b), y);
        loss2.backward(Tensor.scalar(1.0));
        assertArrayEquals(first, w.grad().toDoubleArray(), 0.0);
    }

    @Test
    void theGraphIsRebuiltOnEveryForwardSoJavaControlFlowWorks() {
        Tensor p = Tensor.of(new double[] {0.5, -1.0, 2.0}, 3).requiresGrad_();
        double expectedFirst = 0;
        double expectedLast = 0;
        for (int step = 1; step <= 4; step++) {
            // A different graph each time: depth, op and slice length depend on the loop variable.
            Tensor h = p;
            for (int k = 0; k < step; k++) {
                h = step % 2 == 0 ? h.mul(2) : h.add(1);
            }
            int length = step > 2 ? 3 : 2;
            h.slice(0, 0, length).sum().backward();
            double slope = step % 2 == 0 ? Math.pow(2, step) : 1;
            expectedFirst += slope;
            expectedLast += length == 3 ? slope : 0;
            assertEquals(expectedFirst, p.grad().get(0), 0.0, "step " + step);
            assertEquals(expectedLast, p.grad().get(2), 0.0, "step " + step);
        }
    }
}
