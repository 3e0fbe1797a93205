package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.ml.param.HasProbabilityCol;
import io.sparkgrad.spark.ml.param.HasRawPredictionCol;

/** {@link NeuralNetParams} plus the classifier's two extra output columns. */
public interface NeuralNetClassifierParams extends NeuralNetParams, HasProbabilityCol, HasRawPredictionCol {
}
