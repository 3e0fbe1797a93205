package io.sparkgrad;

import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** BCE-with-logits: the one-pass loop used for small tensors against the vectorized op chain. */
class BceTwinsTest {
    @Test
    void smallLoopAndVectorizedChainAgree() {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (int n : new int[] {3, 255, 256, 257, 4000}) {
                Generator g = new Generator(n);
                Tensor x = Tensor.randn(dtype, g, n).mul(4);
                Tensor y = Tensor.rand(dtype, g, n);
                Tensor ones = Tensor.ones(dtype, n);
                for (Reduction r : Reduction.values()) {
                    Tensor plain = F.binaryCrossEntropyWithLogits(x, y, r);
                    Tensor viaWeights = F.binaryCrossEntropyWithLogits(x, y, ones, null, r);   // always the chain
                    double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
                    assertTrue(plain.allClose(viaWeights, tol, tol), dtype + " n=" + n + " " + r + ": " + plain
                            + " vs " + viaWeights);
                }
            }
        }
    }
}
