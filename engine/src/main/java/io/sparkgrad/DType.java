package io.sparkgrad;

/**
 * Element types. {@link #FLOAT32} is the training type and the default; {@link #FLOAT64} is for
 * gradient checks and numerically delicate work; {@link #INT64} holds class indices and gather
 * indices (as PyTorch's {@code torch.long}) and is never differentiable.
 */
public enum DType {
    FLOAT32("torch.float32", 4),
    FLOAT64("torch.float64", 8),
    INT64("torch.int64", 8);

    private final String torchName;
    private final int byteSize;

    DType(String torchName, int byteSize) {
        this.torchName = torchName;
        this.byteSize = byteSize;
    }

    /** The name PyTorch prints for this type, e.g. {@code torch.float64}. */
    public String torchName() {
        return torchName;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return this != INT64;
    }

    /** PyTorch's type promotion for two operands: the wider float type wins. */
    public static DType promote(DType a, DType b) {
        if (a == b) {
            return a;
        }
        if (a == FLOAT64 || b == FLOAT64) {
            return FLOAT64;
        }
        return FLOAT32;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
