package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * The {@code weightCol} param: a numeric column of non-negative row weights. Unset (or empty) means
 * every row weighs 1, as in Spark's own estimators.
 */
public interface HasWeightCol extends Params {
    /** Weight column name; unset or empty for equal weights. */
    default Param<String> weightCol() {
        return new Param<>(this, "weightCol",
                "weight column name: non-negative numeric row weights; unset or empty for equal weights",
                Validators.any());
    }

    /** The weight column, or {@code ""} when none is set. */
    default String getWeightCol() {
        return isDefined(weightCol()) ? getOrDefault(weightCol()) : "";
    }
}
