package io.sparkgrad.spark.data;

/** Why a row was rejected; {@link #label()} is the key of the skip counts in the training result. */
public enum InvalidReason {
    NULL_FEATURES("null features"),
    NON_FINITE_FEATURE("NaN or infinite feature"),
    WRONG_FEATURE_LENGTH("wrong feature vector length"),
    NULL_LABEL("null label"),
    NON_FINITE_LABEL("NaN or infinite label"),
    LABEL_OUT_OF_RANGE("label is not a class index in range"),
    INVALID_WEIGHT("null, negative or non-finite weight");

    private final String label;

    InvalidReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
