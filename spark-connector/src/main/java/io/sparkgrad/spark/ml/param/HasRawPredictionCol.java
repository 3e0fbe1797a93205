package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code rawPredictionCol} param: raw prediction (a.k.a. confidence, the network's logits) column name, a Vector; empty to leave it out */
public interface HasRawPredictionCol extends Params {
    /** raw prediction (a.k.a. confidence, the network's logits) column name, a Vector; empty to leave it out */
    default Param<String> rawPredictionCol() {
        return new Param<>(this, "rawPredictionCol", "raw prediction (a.k.a. confidence, the network's logits) column name, a Vector; empty to leave it out", Validators.any());
    }

    default String getRawPredictionCol() {
        return getOrDefault(rawPredictionCol());
    }
}
