/**
 * Sparkgrad for Spark ML: estimators and models that follow Spark's conventions, trained
 * data-parallel by {@link io.sparkgrad.spark.train.DistributedTrainer}.
 *
 * <ul>
 *   <li>{@link io.sparkgrad.spark.ml.NeuralNetClassifier} / {@link io.sparkgrad.spark.ml.NeuralNetRegressor}
 *       fit a perceptron ({@code hiddenLayers}, {@code activation}) or any engine network
 *       ({@code moduleFactory}) and return a {@link io.sparkgrad.spark.ml.NeuralNetClassificationModel} /
 *       {@link io.sparkgrad.spark.ml.NeuralNetRegressionModel}. Both work inside a {@code Pipeline},
 *       with {@code CrossValidator}, and save/load with Spark's metadata plus
 *       {@code data/weights.safetensors}. Their params are listed in
 *       {@link io.sparkgrad.spark.ml.NeuralNetParams}.</li>
 *   <li>{@link io.sparkgrad.spark.ml.ModuleTrainer} is the lower-level Java API: any module, loss and
 *       optimizer of a {@link io.sparkgrad.spark.train.TrainerConfig}, returning a
 *       {@link io.sparkgrad.spark.ml.TrainedModule}.</li>
 *   <li>Every fit leaves a {@link io.sparkgrad.spark.ml.NeuralNetTrainingSummary} on its model.</li>
 * </ul>
 */
package io.sparkgrad.spark.ml;
