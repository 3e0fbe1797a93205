package io.sparkgrad.optim;

import static io.sparkgrad.optim.OptimizerTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.Tensor;

import java.util.List;

import org.junit.jupiter.api.Test;

/** clipGradNorm_ beyond the golden cases: no gradients, non-finite norms, in-place scaling. */
class ClipGradTest {

    private static Tensor withGrad(double... g) {
        Tensor p = Tensor.zeros(io.sparkgrad.DType.FLOAT64, g.length).requiresGrad_();
        p.setGrad(Tensor.of(g, g.length));
        return p;
    }

    @Test
    void noGradientsGiveZero() {
        assertEquals(0.0, ClipGrad.clipGradNorm_(List.of(Tensor.zeros(2).requiresGrad_()), 1.0));
    }

    @Test
    void scalesTheGradientTensorsInPlace() {
        Tensor p = withGrad(3, 4);
        Tensor g = p.grad();
        double total = ClipGrad.clipGradNorm_(List.of(p), 1.0);
        assertEquals(5.0, total);
        assertSame(g, p.grad());
        double coef = 1.0 / (5.0 + 1e-6);
        assertArrayEquals(new double[] {3 * coef, 4 * coef}, p.grad().toDoubleArray());
    }

    @Test
    void aNonFiniteNormSpreadsOrThrowsWhenAsked() {
        Tensor p = withGrad(1, Double.NaN);
        assertTrue(Double.isNaN(ClipGrad.clipGradNorm_(List.of(p), 1.0)));
        assertTrue(Double.isNaN(p.grad().toDoubleArray()[0]), "as PyTorch: a NaN coefficient reaches every gradient");
        Tensor q = withGrad(1, Double.POSITIVE_INFINITY);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ClipGrad.clipGradNorm_(List.of(q), 1.0, 2.0, true));
        assertTrue(e.getMessage().contains("non-finite"));
        assertArrayEquals(new double[] {1, Double.POSITIVE_INFINITY}, q.grad().toDoubleArray(), "unchanged when refused");
    }

    @Test
    void normTypeMustBePositive() {
        assertMessage("normType must be positive", () -> ClipGrad.clipGradNorm_(List.of(withGrad(1)), 1.0, 0.0));
    }
}
