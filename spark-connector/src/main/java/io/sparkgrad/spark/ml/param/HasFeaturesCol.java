package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code featuresCol} param: features column name: an ML Vector (VectorUDT) or an array of float or double, one example per row */
public interface HasFeaturesCol extends Params {
    /** features column name: an ML Vector (VectorUDT) or an array of float or double, one example per row */
    default Param<String> featuresCol() {
        return new Param<>(this, "featuresCol", "features column name: an ML Vector (VectorUDT) or an array of float or double, one example per row", Validators.any());
    }

    default String getFeaturesCol() {
        return getOrDefault(featuresCol());
    }
}
