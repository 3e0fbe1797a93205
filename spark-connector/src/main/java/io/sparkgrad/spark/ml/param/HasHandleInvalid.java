package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * The {@code handleInvalid} param, as in Spark's own transformers: what to do with a row whose
 * features or label cannot be used (null or NaN, a vector of the wrong length, a label out of
 * range). {@code "error"} fails with a message naming the column, the problem and the
 * partition/row; {@code "skip"} drops the row and counts it.
 */
public interface HasHandleInvalid extends Params {
    /** {@code "error"} or {@code "skip"}. */
    default Param<String> handleInvalid() {
        return new Param<>(this, "handleInvalid",
                "how to handle invalid rows (null or NaN features, wrong vector length, label out of range): "
                        + "'error' throws naming the column, problem and partition/row; 'skip' drops and counts them",
                Validators.oneOfIgnoreCase("error", "skip"));
    }

    default String getHandleInvalid() {
        return getOrDefault(handleInvalid());
    }
}
