package io.sparkgrad;

import io.sparkgrad.autograd.Autograd;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Autograd behaviour beyond the tutorial page, as PyTorch has it. */
class AutogradSemanticsTest {

    private static Tensor vec(double... v) {
        return Tensor.of(v, v.length);
    }

    @Test
    void gradReturnsGradientsWithoutAccumulating() {
        Tensor a = vec(1, 2, 3).requiresGrad_();
        Tensor b = vec(4, 5, 6).requiresGrad_();
        Tensor out = a.mul(b).sum();
        List<Tensor> g = Autograd.grad(List.of(out), List.of(a, b), null, false, false);
        assertArrayEquals(new double[] {4, 5, 6}, g.get(0).toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3}, g.get(1).toDoubleArray());
        assertNull(a.grad(), "Autograd.grad must not touch .grad");
        assertNull(b.grad());
    }

    @Test
    void gradWithRespectToANonLeafAndOnlyWhatIsNeeded() {
        Tensor a = vec(1, 2).requiresGrad_();
        Tensor h = a.mul(3);
        Tensor out = h.pow(2).sum();
        List<Tensor> g = Autograd.grad(List.of(out), List.of(h), null, false, false);
        assertArrayEquals(new double[] {6, 12}, g.get(0).toDoubleArray(), 1e-12);
        assertNull(a.grad());
    }

    @Test
    void anUnusedInputIsAnErrorUnlessAllowed() {
        Tensor a = vec(1).requiresGrad_();
        Tensor unused = vec(2).requiresGrad_();
        Tensor out = a.mul(2).sum();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Autograd.grad(List.of(out), List.of(a, unused), null, true, false));
        assertTrue(e.getMessage().contains("not have been used"), e.getMessage());
        List<Tensor> g = Autograd.grad(List.of(out), List.of(a, unused), null, false, false, true);
        assertNull(g.get(1));
        assertEquals(2.0, g.get(0).item());
    }

    @Test
    void createGraphGivesSecondDerivatives() {
        Tensor x = vec(0.5, -2, 3).requiresGrad_();
        Tensor y = x.pow(3).sum();
        Tensor dy = Autograd.grad(List.of(y), List.of(x), null, true, true).get(0);
        assertTrue(dy.requiresGrad(), "with createGraph the gradient is differentiable");
        assertArrayEquals(new double[] {0.75, 12, 27}, dy.toDoubleArray(), 1e-12);
        Tensor d2y = Autograd.grad(List.of(dy.sum()), List.of(x), null, false, false).get(0);
        assertArrayEquals(new double[] {3, -12, 18}, d2y.toDoubleArray(), 1e-12);
    }

    @Test
    void backwardWithCreateGraphAccumulatesADifferentiableGrad() {
        Tensor x = vec(2).requiresGrad_();
        x.exp().sum().backward(null, true, true);
        assertTrue(x.grad().requiresGrad());
        Tensor firstGrad = x.grad();
        x.setGrad(null);
        firstGrad.sum().backward();
        assertEquals(Math.exp(2), x.grad().item(), 1e-12);
    }

    @Test
    void changingASavedTensorInPlaceMakesBackwardFail() {
        Tensor w = vec(1, 2, 3).requiresGrad_();
        Tensor a = w.mul(2);
        Tensor out = a.mul(a).sum();          // MulBackward0 saves a
        a.add_(1);                            // bumps a's version
        IllegalStateException e = assertThrows(IllegalStateException.class, out::backward);
        assertTrue(e.getMessage().contains("modified by an inplace operation"), e.getMessage());
        assertTrue(e.getMessage().contains("version 1; expected version 0"), e.getMessage());
        assertTrue(e.getMessage().contains("[torch.float64 [3]]"), e.getMessage());
    }

    @Test
    void inPlaceOpsOnNonLeavesAreRecorded() {
        Tensor w = vec(1, 2, 3).requiresGrad_();
        Tensor a = w.mul(2);
        a.add_(1).mul_(3);                    // a = (2w + 1) * 3
        assertEquals("MulBackward0", a.gradFn().name());
        a.sum().backward();
        assertArrayEquals(new double[] {6, 6, 6}, w.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {9, 15, 21}, a.toDoubleArray(), 1e-12);
    }

    @Test
    void inPlaceOnALeafThatRequiresGradIsRefusedOutsideNoGrad() {
        Tensor w = vec(1, 2).requiresGrad_();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.add_(1));
        assertTrue(e.getMessage().contains("leaf"), e.getMessage());
        try (var g = GradMode.noGrad()) {
            w.sub_(vec(0.5, 0.5));            // how an optimizer steps
        }
        assertArrayEquals(new double[] {0.5, 1.5}, w.toDoubleArray());
        assertEquals(1, w.version());
    }

    @Test
    void viewsShareStorageAndSeeInPlaceWrites() {
        Tensor base = Tensor.arange(0, 6, 1, DType.FLOAT64).reshape(2, 3);
        Tensor t = base.t();
        Tensor row = base.select(0, 1);
        assertSame(base.storage(), t.storage());
        assertFalse(t.isContiguous());
        row.fill_(7);
        assertArrayEquals(new double[] {0, 7, 1, 7, 2, 7}, t.toDoubleArray());
        assertEquals(base.version(), row.version(), "views share the version counter");
    }

    @Test
    void aHundredThousandNodeChainDoesNotOverflowTheStack() {
        // Surefire runs with -Xss512k, so a recursive walk would fail here.
        Tensor x = vec(1.0).requiresGrad_();
        Tensor h = x;
        for (int i = 0; i < 100_000; i++) {
            h = h.mul(1.0000001).add(1e-7);
        }
        h.sum().backward();
        assertEquals(Math.pow(1.0000001, 100_000), x.grad().item(), 1e-9);
    }

    @Test
    void savedTensorsAreFreedAfterBackwardUnlessRetained() {
        Tensor x = vec(1, 2).requiresGrad_();
        Tensor y = x.exp().sum();
        y.backward(null, true);
        y.backward(null, true);
        assertArrayEquals(new double[] {2 * Math.exp(1), 2 * Math.exp(2)}, x.grad().toDoubleArray(), 1e-12);
        y.backward();
        assertThrows(IllegalStateException.class, y::backward);
    }

    @Test
    void broadcastGradientsAreSummedBackToEachInputsShape() {
        Tensor a = Tensor.ones(DType.FLOAT64, 4, 3).requiresGrad_();
        Tensor b = vec(1, 2, 3).requiresGrad_();
        Tensor c = Tensor.ones(DType.FLOAT64, 4, 1).requiresGrad_();
        a.mul(b).add(c).sum().backward();
        assertArrayEquals(new int[] {3}, b.grad().shape());
        assertArrayEquals(new double[] {4, 4, 4}, b.grad().toDoubleArray());
        assertArrayEquals(new int[] {4, 1}, c.grad().shape());
        assertArrayEquals(new double[] {3, 3, 3, 3}, c.grad().toDoubleArray());
    }

    @Test
    void mixedFloatTypesPromoteAndGradientsKeepEachInputsType() {
        Tensor f = Tensor.of(new float[] {1, 2}, 2).requiresGrad_();
        Tensor d = vec(3, 4).requiresGrad_();
        Tensor out = f.mul(d);
        assertEquals(DType.FLOAT64, out.dtype());
        out.sum().backward();
        assertEquals(DType.FLOAT32, f.grad().dtype());
        assertArrayEquals(new float[] {3, 4}, f.grad().toFloatArray());
        assertEquals(DType.FLOAT64, d.grad().dtype());
    }

    @Test
    void nextFunctionsLeadToAccumulateGradAtLeaves() {
        Tensor w = vec(1).requiresGrad_();
        Tensor z = w.mul(2).add(1);
        Node add = z.gradFn();
        assertEquals("AddBackward0", add.name());
        Node mul = add.nextFunctions().get(0);
        assertEquals("MulBackward0", mul.name());
        assertEquals("AccumulateGrad", mul.nextFunctions().get(0).name());
        assertNull(add.nextFunctions().get(1), "the constant needs no gradient");
    }

    @Test
    void gradModeIsPerThreadAndRestoredByTheScope() throws Exception {
        try (var outer = GradMode.noGrad()) {
            assertFalse(GradMode.isEnabled());
            boolean[] seen = new boolean[1];
            Thread other = new Thread(() -> seen[0] = GradMode.isEnabled());
            other.start();
            other.join();
            assertTrue(seen[0], "another thread is not affected by this thread's noGrad");
            try (var inner = GradMode.enableGrad()) {
                assertTrue(vec(1).requiresGrad_().mul(2).requiresGrad());
            }
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
    }

    @Test
    void crossEntropyEqualsNllOfLogSoftmax() {
        Tensor.manualSeed(3);
        Tensor logits = Tensor.randn(DType.FLOAT64, Generator.defaultGenerator(), 4, 5).requiresGrad_();
        Tensor target = Tensor.of(new long[] {0, 4, 2, 2}, 4);
        Tensor ce = F.crossEntropy(logits, target);
        assertEquals("NllLossBackward0", ce.gradFn().name());
        Tensor manual = logits.logSoftmax(1).gather(1, target.reshape(4, 1)).neg().mean();
        assertEquals(manual.item(), ce.item(), 1e-12);
    }
}
