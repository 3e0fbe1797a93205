package io.sparkgrad.functional;

/** How a loss combines its per-element values, as PyTorch's {@code reduction=} argument. */
public enum Reduction {
    /** One value per element. */
    NONE,
    /** The average (the default). */
    MEAN,
    /** The sum. */
    SUM
}
