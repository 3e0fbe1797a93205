package io.sparkgrad.spark.train;

import java.util.Locale;

/**
 * What to do with a row whose features or label cannot be used (a null or NaN feature, a feature
 * vector of the wrong length, a null label, a class index out of range or not an integer, a
 * negative or NaN weight), as the {@code handleInvalid} param of Spark's own transformers.
 */
public enum HandleInvalid {
    /** Fail the job with an error that names the column, the problem, the partition and the row. */
    ERROR,
    /** Drop the row and count it; the counts end up in {@link TrainingResult#skippedRows()}. */
    SKIP;

    /** Spark's spelling, {@code "error"} or {@code "skip"} (case-insensitive). */
    public static HandleInvalid parse(String value) {
        switch (value == null ? "" : value.toLowerCase(Locale.ROOT)) {
            case "error": return ERROR;
            case "skip": return SKIP;
            default: throw new IllegalArgumentException("handleInvalid must be \"error\" or \"skip\", got \"" + value + "\"");
        }
    }

    /** Spark's spelling: {@code "error"} or {@code "skip"}. */
    public String sparkName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
