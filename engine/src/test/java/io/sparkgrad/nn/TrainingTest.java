package io.sparkgrad.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;

import org.junit.jupiter.api.Test;

/** The layers working together: small networks learn easy synthetic tasks with plain SGD. */
class TrainingTest {
    /** Images of horizontal stripes (class 0) or vertical stripes (class 1), with noise. */
    private static Tensor[] stripes(int n, Generator g) {
        double[] x = new double[n * 8 * 8];
        long[] y = new long[n];
        double[] noise = new double[x.length];
        g.fillNormal(noise);
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            int phase = g.nextInt(2);
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < 8; c++) {
                    int line = y[i] == 0 ? r : c;
                    int k = (i * 8 + r) * 8 + c;
                    x[k] = ((line + phase) % 2 == 0 ? 1 : -1) + 0.3 * noise[k];
                }
            }
        }
        return new Tensor[] {Tensor.of(x, n, 1, 8, 8).to(DType.FLOAT32), Tensor.of(y, n)};
    }

    private static void sgdStep(Module model, double lr) {
        try (var g = GradMode.noGrad()) {
            for (Parameter p : model.parameters()) {
                p.sub_(p.grad().mul(lr));
            }
        }
    }

    private static double accuracy(Tensor logits, Tensor labels) {
        long[] predicted = logits.argmax(1, false).toLongArray();
        long[] y = labels.toLongArray();
        int right = 0;
        for (int i = 0; i < y.length; i++) {
            right += predicted[i] == y[i] ? 1 : 0;
        }
        return right / (double) y.length;
    }

    @Test
    void aSmallCnnLearnsStripes() {
        Generator g = new Generator(21);
        Sequential model = new Sequential(
                new Conv2d(1, 4, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, true, g),
                new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
                new Conv2d(4, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}, true, g), new ReLU(),
                new AvgPool2d(2), new Flatten(), new Dropout(0.2, g), new Linear(8, 2, true, g));
        Tensor[] train = stripes(64, g);
        Tensor[] test = stripes(64, g);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 40; step++) {
            model.zeroGrad();
            Tensor loss = new CrossEntropyLoss().apply(model.apply(train[0]), train[1]);
            loss.backward();
            sgdStep(model, 0.1);
            if (step == 0) {
                first = loss.item();
            }
            last = loss.item();
        }
        assertTrue(last < first / 4, "loss went from " + first + " to " + last);
        model.eval();
        assertEquals(1.0, accuracy(model.apply(test[0]), test[1]));
        assertEquals(40, model.stateDict().get("1.num_batches_tracked").item());
    }

    @Test
    void anMlpWithLayerNormAndGeluFitsXor() {
        Generator g = new Generator(5);
        Tensor x = Tensor.of(new float[] {0, 0, 0, 1, 1, 0, 1, 1}, 4, 2);
        Tensor y = Tensor.of(new float[] {0, 1, 1, 0}, 4, 1);
        Sequential model = new Sequential(new Linear(2, 16, true, g), new LayerNorm(16), new GELU(),
                new Linear(16, 1, true, g));
        BCEWithLogitsLoss lossFn = new BCEWithLogitsLoss();
        for (int step = 0; step < 300; step++) {
            model.zeroGrad();
            lossFn.apply(model.apply(x), y).backward();
            sgdStep(model, 0.5);
        }
        double[] p = F.sigmoid(model.apply(x)).toDoubleArray();
        for (int i = 0; i < 4; i++) {
            assertEquals(y.toDoubleArray()[i], p[i], 0.1, "sample " + i);
        }
    }
}
