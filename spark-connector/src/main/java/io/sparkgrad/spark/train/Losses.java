package io.sparkgrad.spark.train;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;

/**
 * The training loss summed over a batch (weighted when weights are given), and the evaluation
 * metric's sum: the trainer's executors divide nothing, the driver divides by the step's weight
 * sum, so the result is the gradient of the mean loss over the global batch.
 */
final class Losses {
    private Losses() {
    }

    /** {@code Σ w·loss(out, y)} over the batch ({@code w = 1} when {@code weights} is null). */
    static Tensor sum(TrainerConfig cfg, Tensor out, Tensor labels, Tensor weights) {
        Tensor pred = checkOutput(cfg, out, labels.size(0));
        if (cfg.loss() == LossFunction.CROSS_ENTROPY) {
            return weights == null ? F.crossEntropy(pred, labels, Reduction.SUM)
                    : F.crossEntropy(pred, labels, Reduction.NONE).mul(weights).sum();
        }
        return weights == null ? F.mseLoss(pred, labels, Reduction.SUM)
                : F.mseLoss(pred, labels, Reduction.NONE).mul(weights).sum();
    }

    /**
     * The metric's sum over the batch: weighted correct predictions (classification; ties go to
     * the lowest class) or weighted squared error (regression).
     */
    static double metricSum(TrainerConfig cfg, Tensor out, Tensor labels, Tensor weights) {
        Tensor pred = checkOutput(cfg, out, labels.size(0));
        int n = labels.size(0);
        float[] w = weights == null ? null : weights.toFloatArray();
        double sum = 0;
        if (cfg.loss() == LossFunction.CROSS_ENTROPY) {
            long[] predicted = pred.argmax(1, false).toLongArray();
            long[] y = labels.toLongArray();
            for (int i = 0; i < n; i++) {
                if (predicted[i] == y[i]) {
                    sum += w == null ? 1 : w[i];
                }
            }
        } else {
            float[] p = pred.toFloatArray();
            float[] y = labels.toFloatArray();
            for (int i = 0; i < n; i++) {
                double e = (double) p[i] - y[i];
                sum += (w == null ? 1 : w[i]) * e * e;
            }
        }
        return sum;
    }

    /** The output as the loss wants it: {@code [B, C]} logits, or {@code [B]} predictions (from {@code [B]} or {@code [B, 1]}). */
    private static Tensor checkOutput(TrainerConfig cfg, Tensor out, int batch) {
        int[] s = out.shape();
        if (cfg.loss() == LossFunction.CROSS_ENTROPY) {
            if (s.length != 2 || s[0] != batch || s[1] != cfg.numClasses()) {
                throw new IllegalStateException("the model's output has shape " + Shapes.str(s) + " for a batch of "
                        + batch + "; cross-entropy over " + cfg.numClasses() + " classes needs [" + batch + ", "
                        + cfg.numClasses() + "] logits");
            }
            return out;
        }
        if (s.length == 2 && s[0] == batch && s[1] == 1) {
            return out.reshape(batch);
        }
        if (s.length != 1 || s[0] != batch) {
            throw new IllegalStateException("the model's output has shape " + Shapes.str(s) + " for a batch of " + batch
                    + "; regression needs [" + batch + "] or [" + batch + ", 1]");
        }
        return out;
    }
}
