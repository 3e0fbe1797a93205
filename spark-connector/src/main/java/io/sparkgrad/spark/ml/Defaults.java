package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.train.TrainerConfig;

/**
 * The one {@code setDefault} block of {@link NeuralNetParams} (and of the classifier's two extra
 * columns), applied by every estimator and model constructor, so an estimator and the model it fits
 * agree on every default.
 */
final class Defaults {
    /** Default of {@code hiddenLayers}. */
    static final int[] HIDDEN_LAYERS = {128};
    /** Default of {@code batchSize}. */
    static final int BATCH_SIZE = 128;
    /** Default of {@code localSteps}: the trainer's choice. */
    static final int LOCAL_STEPS = TrainerConfig.AUTO_LOCAL_STEPS;

    private Defaults() {
    }

    static void set(NeuralNetParams p) {
        p.setDefault(p.featuresCol(), "features");
        p.setDefault(p.labelCol(), "label");
        p.setDefault(p.predictionCol(), "prediction");
        p.setDefault(p.seed(), (long) p.getClass().getName().hashCode());
        p.setDefault(p.handleInvalid(), "error");
        p.setDefault(p.hiddenLayers(), HIDDEN_LAYERS.clone());
        p.setDefault(p.activation(), "relu");
        p.setDefault(p.optimizer(), "adam");
        p.setDefault(p.learningRate(), 1e-3);
        p.setDefault(p.batchSize(), BATCH_SIZE);
        p.setDefault(p.maxEpochs(), 10);
        p.setDefault(p.localSteps(), LOCAL_STEPS);
        p.setDefault(p.outerOptimizer(), "averaging");
        p.setDefault(p.lrSchedule(), "constant");
        p.setDefault(p.device(), "cpu");
        p.setDefault(p.validationFraction(), 0.0);
        p.setDefault(p.earlyStoppingPatience(), 0);
        p.setDefault(p.checkpointInterval(), 0);
        p.setDefault(p.stepTimeoutSeconds(), (double) TrainerConfig.DEFAULT_STEP_TIMEOUT.toSeconds());
        if (p instanceof NeuralNetClassifierParams) {
            NeuralNetClassifierParams c = (NeuralNetClassifierParams) p;
            c.setDefault(c.probabilityCol(), "probability");
            c.setDefault(c.rawPredictionCol(), "rawPrediction");
        }
    }
}
