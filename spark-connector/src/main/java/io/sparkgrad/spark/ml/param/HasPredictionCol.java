package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code predictionCol} param: prediction column name (double); empty to leave it out of the output */
public interface HasPredictionCol extends Params {
    /** prediction column name (double); empty to leave it out of the output */
    default Param<String> predictionCol() {
        return new Param<>(this, "predictionCol", "prediction column name (double); empty to leave it out of the output", Validators.any());
    }

    default String getPredictionCol() {
        return getOrDefault(predictionCol());
    }
}
