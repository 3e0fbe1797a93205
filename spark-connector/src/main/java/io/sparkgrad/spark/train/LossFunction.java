package io.sparkgrad.spark.train;

/**
 * The training loss. Both are summed per row on the executors (weighted by the weight column when
 * one is set) and divided on the driver by the number of rows (or the sum of weights) of the
 * step, so the gradient is that of the mean loss over the global batch.
 */
public enum LossFunction {
    /**
     * Cross-entropy of the model's logits {@code [B, numClasses]} against class indices in
     * {@code [0, numClasses)} (PyTorch's {@code CrossEntropyLoss}); needs {@code numClasses >= 2}.
     */
    CROSS_ENTROPY,
    /**
     * Squared error of the model's output ({@code [B]} or {@code [B, 1]}) against a real-valued
     * target (PyTorch's {@code MSELoss}); for regression, {@code numClasses = 0}.
     */
    MSE
}
