package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code probabilityCol} param: column name for predicted class probabilities (softmax of the raw predictions, a Vector); empty to leave it out */
public interface HasProbabilityCol extends Params {
    /** column name for predicted class probabilities (softmax of the raw predictions, a Vector); empty to leave it out */
    default Param<String> probabilityCol() {
        return new Param<>(this, "probabilityCol", "column name for predicted class probabilities (softmax of the raw predictions, a Vector); empty to leave it out", Validators.any());
    }

    default String getProbabilityCol() {
        return getOrDefault(probabilityCol());
    }
}
