package io.sparkgrad.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

import org.junit.jupiter.api.Test;

/** Layer behaviour beyond the golden values: initialisation, dropout, running statistics, shapes, errors. */
class LayerTest {
    private static final DType F64 = DType.FLOAT64;

    // ------------------------------------------------------------------ initialisation

    @Test
    void linearAndConvStartUniformInPyTorchsBounds() {
        Linear fc = new Linear(100, 50, true, new Generator(1));
        assertWithin(fc.weight(), 1 / Math.sqrt(100));
        assertWithin(fc.bias(), 1 / Math.sqrt(100));
        Conv2d conv = new Conv2d(4, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}, true, new Generator(1));
        assertWithin(conv.weight(), 1 / Math.sqrt(4 * 9));
        assertWithin(conv.bias(), 1 / Math.sqrt(4 * 9));
        assertArrayEquals(new int[] {8, 4, 3, 3}, conv.weight().shape());
    }

    /**
     * Every value inside (-bound, bound); with enough draws (200 or more) they must also fill the
     * range, so the bound is not smaller than PyTorch's either.
     */
    private static void assertWithin(Tensor t, double bound) {
        double[] v = t.toDoubleArray();
        double min = Double.MAX_VALUE;
        double max = -Double.MAX_VALUE;
        for (double x : v) {
            assertTrue(Math.abs(x) <= bound, x + " outside ±" + bound);
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        if (v.length >= 200) {
            assertTrue(min < -0.9 * bound && max > 0.9 * bound, "range [" + min + ", " + max + "] for bound " + bound);
        }
    }

    @Test
    void embeddingStartsStandardNormalAndNormsAtOnesAndZeros() {
        double[] w = new Embedding(2000, 10, -1, new Generator(2)).weight().toDoubleArray();
        double mean = 0;
        for (double x : w) {
            mean += x / w.length;
        }
        double var = 0;
        for (double x : w) {
            var += (x - mean) * (x - mean) / w.length;
        }
        assertEquals(0, mean, 0.02);
        assertEquals(1, var, 0.03);
        Embedding padded = new Embedding(5, 3, 2, new Generator(2));
        assertTrue(padded.weight().select(0, 2).valueEquals(Tensor.zeros(3)));
        LayerNorm ln = new LayerNorm(4);
        assertTrue(ln.weight().valueEquals(Tensor.ones(4)) && ln.bias().valueEquals(Tensor.zeros(4)));
        BatchNorm2d bn = new BatchNorm2d(3);
        assertTrue(bn.weight().valueEquals(Tensor.ones(3)) && bn.bias().valueEquals(Tensor.zeros(3)));
        assertTrue(bn.runningMean().valueEquals(Tensor.zeros(3)) && bn.runningVar().valueEquals(Tensor.ones(3)));
    }

    @Test
    void aSeedGivesTheSameInitialisation() {
        assertTrue(new Linear(5, 4, true, new Generator(9)).weight().valueEquals(new Linear(5, 4, true, new Generator(9)).weight()));
        assertFalse(new Linear(5, 4, true, new Generator(9)).weight().valueEquals(new Linear(5, 4, true, new Generator(10)).weight()));
        Tensor.manualSeed(4);
        Tensor a = new Linear(3, 3).weight().detach().clone();
        Tensor.manualSeed(4);
        assertTrue(a.valueEquals(new Linear(3, 3).weight()));
    }

    // ------------------------------------------------------------------ dropout

    @Test
    void dropoutScalesSurvivorsAndIsTheIdentityInEval() {
        Dropout d = new Dropout(0.3, new Generator(11));
        Tensor x = Tensor.ones(F64, 100, 100);
        double[] y = d.apply(x).toDoubleArray();
        int zeros = 0;
        for (double v : y) {
            if (v == 0) {
                zeros++;
            } else {
                assertEquals(1 / 0.7, v, 1e-15);
            }
        }
        assertEquals(0.3, zeros / 10000.0, 0.02);
        d.eval();
        assertSame(x, d.apply(x));
        assertTrue(new Dropout(1.0).apply(x).valueEquals(Tensor.zeros(F64, 100, 100)));
        assertSame(x, new Dropout(0.0).apply(x));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.5));
    }

    @Test
    void dropoutIsReproducibleFromItsSeedAndItsGradientIsTheMask() {
        Tensor x = Tensor.randn(F64, new Generator(1), 8, 8).requiresGrad_();
        Tensor a = new Dropout(0.5, new Generator(42)).apply(x);
        Tensor b = new Dropout(0.5, new Generator(42)).apply(x);
        assertTrue(a.valueEquals(b));
        a.sum().backward();
        double[] g = x.grad().toDoubleArray();
        double[] y = a.toDoubleArray();
        double[] in = x.detach().toDoubleArray();
        for (int i = 0; i < g.length; i++) {
            assertEquals(y[i] == 0 ? 0 : 2, g[i], 1e-15);
            assertEquals(y[i] == 0 ? 0 : 2 * in[i], y[i], 1e-15);
        }
    }

    // ------------------------------------------------------------------ batch norm

    @Test
    void batchNormRunningStatisticsFollowPyTorch() {
        BatchNorm1d bn = new BatchNorm1d(2);
        bn.to(F64);
        Tensor x = Tensor.of(new double[] {1, 10, 2, 20, 3, 30, 6, 60}, 4, 2);
        Tensor y = bn.apply(x);
        // Channel 0: mean 3, biased var 3.5, unbiased var 14/3.
        assertEquals(0.9 * 0 + 0.1 * 3, bn.runningMean().get(0), 1e-15);
        assertEquals(0.9 * 1 + 0.1 * 14 / 3.0, bn.runningVar().get(0), 1e-15);
        assertEquals(0.9 * 0 + 0.1 * 30, bn.runningMean().get(1), 1e-13);
        assertEquals(1, bn.numBatchesTracked().item());
        assertEquals((1 - 3) / Math.sqrt(3.5 + 1e-5), y.get(0, 0), 1e-12);

        bn.eval();
        Tensor mean = bn.runningMean().clone();
        Tensor z = bn.apply(x);
        assertTrue(mean.valueEquals(bn.runningMean()), "eval leaves the running statistics alone");
        assertEquals(1, bn.numBatchesTracked().item());
        assertEquals((1 - 0.3) / Math.sqrt(0.9 + 0.1 * 14 / 3.0 + 1e-5), z.get(0, 0), 1e-12);
    }

    @Test
    void batchNormWithoutMomentumKeepsTheCumulativeAverage() {
        BatchNorm1d bn = new BatchNorm1d(1, 1e-5, null, true, true);
        bn.to(F64);
        double[] means = {1, 4, 10};
        for (double m : means) {
            bn.apply(Tensor.of(new double[] {m - 1, m + 1}, 2, 1));
        }
        assertEquals(5, bn.runningMean().get(0), 1e-12);
        assertEquals(2, bn.runningVar().get(0), 1e-12, "the unbiased variance of each batch is 2");
        assertEquals(3, bn.numBatchesTracked().item());
    }

    @Test
    void batchNormNeedsMoreThanOneValuePerChannelInTraining() {
        BatchNorm1d bn = new BatchNorm1d(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.apply(Tensor.ones(1, 3)));
        assertTrue(e.getMessage().contains("more than 1 value per channel"), e.getMessage());
        bn.eval();
        assertArrayEquals(new int[] {1, 3}, bn.apply(Tensor.ones(1, 3)).shape());
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm2d(3).apply(Tensor.ones(2, 3)));
        assertThrows(IllegalArgumentException.class, () -> new BatchNorm1d(4).apply(Tensor.ones(2, 3)));
    }

    // ------------------------------------------------------------------ convolution and pooling

    @Test
    void conv2dMatchesADirectConvolution() {
        Generator g = new Generator(5);
        Tensor x = Tensor.randn(F64, g, 3, 5, 11, 9);
        Tensor w = Tensor.randn(F64, g, 7, 5, 3, 4);
        Tensor b = Tensor.randn(F64, g, 7);
        int[] stride = {2, 1};
        int[] pad = {1, 2};
        Tensor fast = F.conv2d(x, w, b, stride, pad);
        Tensor slow = directConv(x, w, b, stride, pad);
        assertArrayEquals(slow.shape(), fast.shape());
        assertTrue(fast.allClose(slow, 1e-12, 1e-12));
        // The same through a channels-last (non-contiguous) input, and in float32.
        Tensor channelsLast = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        assertTrue(F.conv2d(channelsLast, w, b, stride, pad).allClose(slow, 1e-12, 1e-12));
        Tensor f32 = F.conv2d(x.to(DType.FLOAT32), w.to(DType.FLOAT32), b.to(DType.FLOAT32), stride, pad);
        assertTrue(f32.to(F64).allClose(slow, 1e-4, 1e-4));
    }

    private static Tensor directConv(Tensor x, Tensor w, Tensor b, int[] s, int[] p) {
        int n = x.size(0);
        int c = x.size(1);
        int h = x.size(2);
        int wd = x.size(3);
        int o = w.size(0);
        int kh = w.size(2);
        int kw = w.size(3);
        int oh = (h + 2 * p[0] - kh) / s[0] + 1;
        int ow = (wd + 2 * p[1] - kw) / s[1] + 1;
        double[] out = new double[n * o * oh * ow];
        int k = 0;
        for (int i = 0; i < n; i++) {
            for (int oc = 0; oc < o; oc++) {
                for (int y = 0; y < oh; y++) {
                    for (int z = 0; z < ow; z++) {
                        double acc = b.get(oc);
                        for (int ic = 0; ic < c; ic++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int iy = y * s[0] - p[0] + u;
                                    int ix = z * s[1] - p[1] + v;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        acc += x.get(i, ic, iy, ix) * w.get(oc, ic, u, v);
                                    }
                                }
                            }
                        }
                        out[k++] = acc;
                    }
                }
            }
        }
        return Tensor.of(out, n, o, oh, ow);
    }

    @Test
    void outputShapesAndErrors() {
        Tensor x = Tensor.zeros(2, 3, 28, 28);
        assertArrayEquals(new int[] {2, 8, 14, 14}, new Conv2d(3, 8, 3, 2, 1).apply(x).shape());
        assertArrayEquals(new int[] {2, 3, 14, 14}, new MaxPool2d(2).apply(x).shape());
        assertArrayEquals(new int[] {2, 3, 9, 9}, new AvgPool2d(3).apply(x).shape());
        assertArrayEquals(new int[] {2, 3 * 28 * 28}, new Flatten().apply(x).shape());
        assertTrue(new Conv2d(3, 8, 3).apply(x).isContiguous());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Conv2d(4, 8, 3).apply(x));
        assertTrue(e.getMessage().contains("to have 4 channels, but got 3 channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv2d(3, 8, 5).apply(Tensor.zeros(1, 3, 4, 4)));
        assertTrue(e.getMessage().contains("Output size is too small"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2).apply(x));
    }

    // ------------------------------------------------------------------ losses

    @Test
    void lossModulesMatchTheirFunctions() {
        Generator g = new Generator(8);
        Tensor logits = Tensor.randn(F64, g, 6, 4);
        Tensor labels = Tensor.of(new long[] {0, 1, 2, 3, 2, 1}, 6);
        Tensor w = Tensor.of(new double[] {1, 2, 0.5, 1}, 4);
        assertTrue(new CrossEntropyLoss(w, 2, Reduction.SUM, 0.1).apply(logits, labels)
                .valueEquals(F.crossEntropy(logits, labels, w, 2, Reduction.SUM, 0.1)));
        assertTrue(new CrossEntropyLoss().apply(logits, labels).valueEquals(F.crossEntropy(logits, labels)));
        Tensor y = Tensor.randn(F64, g, 6, 4);
        assertTrue(new HuberLoss().apply(logits, y).valueEquals(F.huberLoss(logits, y)));
        assertTrue(new L1Loss(Reduction.NONE).apply(logits, y).valueEquals(F.l1Loss(logits, y, Reduction.NONE)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> F.crossEntropy(logits, y));
        assertTrue(e.getMessage().contains("int64"), e.getMessage());
    }
}
