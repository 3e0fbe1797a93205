/**
 * Data-parallel training of Sparkgrad modules on Spark: {@link io.sparkgrad.spark.train.TrainerConfig}
 * says what to train and how, {@link io.sparkgrad.spark.train.DistributedTrainer#fit} trains it on a
 * {@code Dataset<Row>}, {@link io.sparkgrad.spark.train.TrainingResult} holds the model and its history.
 */
package io.sparkgrad.spark.train;
