package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/** The {@code labelCol} param: label column name: a class index 0, 1, ... (classification) or a real target (regression), numeric */
public interface HasLabelCol extends Params {
    /** label column name: a class index 0, 1, ... (classification) or a real target (regression), numeric */
    default Param<String> labelCol() {
        return new Param<>(this, "labelCol", "label column name: a class index 0, 1, ... (classification) or a real target (regression), numeric", Validators.any());
    }

    default String getLabelCol() {
        return getOrDefault(labelCol());
    }
}
