package io.sparkgrad.spark.ml;

import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.ml.param.HasFeaturesCol;
import io.sparkgrad.spark.ml.param.HasHandleInvalid;
import io.sparkgrad.spark.ml.param.HasLabelCol;
import io.sparkgrad.spark.ml.param.HasPredictionCol;
import io.sparkgrad.spark.ml.param.HasSeed;
import io.sparkgrad.spark.ml.param.HasWeightCol;
import io.sparkgrad.spark.ml.param.ModuleFactoryParam;
import io.sparkgrad.spark.ml.param.Validators;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;

/**
 * The params shared by {@link NeuralNetClassifier}, {@link NeuralNetRegressor} and their models
 * (as Spark's {@code MultilayerPerceptronParams}): the columns, the network, the optimizer and the
 * training schedule. Models carry the values their estimator was fitted with.
 *
 * <h2>The network</h2>
 * By default a multilayer perceptron: {@code Linear(numFeatures, h1), act, …, Linear(hk, numOutputs)}
 * with {@link #hiddenLayers()} {@code = [h1, …, hk]} and {@link #activation()}; the input width
 * comes from the data and the output width from the number of classes (classifier) or is 1
 * (regressor). {@link #moduleFactory()} replaces it by any engine {@link Module}.
 *
 * <h2>Local steps</h2>
 * With {@link #localSteps()} {@code = K > 1}, each partition trains its own replica for K
 * mini-batches between synchronisations and the driver applies the mean parameter change
 * through the {@link #outerOptimizer()}: K times fewer Spark jobs, replicas that drift apart for K
 * steps (see {@link io.sparkgrad.spark.train.TrainerConfig}).
 */
public interface NeuralNetParams extends HasFeaturesCol, HasLabelCol, HasPredictionCol, HasWeightCol, HasSeed,
        HasHandleInvalid {

    /** Hidden layer widths of the default multilayer perceptron; empty for a linear model. */
    default IntArrayParam hiddenLayers() {
        return new IntArrayParam(this, "hiddenLayers",
                "hidden layer widths of the multilayer perceptron, input and output widths excluded "
                        + "(they come from the data); empty for a linear model. Ignored when moduleFactory is set",
                Validators.positiveSizesOrEmpty());
    }

    default int[] getHiddenLayers() {
        return getOrDefault(hiddenLayers());
    }

    /** The activation between the perceptron's layers: relu, tanh, sigmoid or gelu. */
    default Param<String> activation() {
        return new Param<>(this, "activation",
                "activation between the perceptron's layers: relu, tanh, sigmoid or gelu. Ignored when moduleFactory is set",
                Validators.oneOfIgnoreCase("relu", "tanh", "sigmoid", "gelu"));
    }

    default String getActivation() {
        return getOrDefault(activation());
    }

    /** Any engine network, built by a serializable factory; replaces hiddenLayers/activation when set. */
    default ModuleFactoryParam moduleFactory() {
        return new ModuleFactoryParam(this, "moduleFactory",
                "a serializable factory of any engine Module taking [batch, numFeatures] and returning "
                        + "[batch, numClasses] logits (classifier) or [batch] / [batch, 1] (regressor); "
                        + "replaces hiddenLayers and activation");
    }

    /** The network factory, or null when the default perceptron is used. */
    default SerializableSupplier<? extends Module> getModuleFactory() {
        return isDefined(moduleFactory()) ? getOrDefault(moduleFactory()) : null;
    }

    /** sgd, adam or adamw. */
    default Param<String> optimizer() {
        return new Param<>(this, "optimizer", "the optimizer: sgd, adam or adamw (PyTorch's defaults otherwise)",
                Validators.oneOfIgnoreCase("sgd", "adam", "adamw"));
    }

    default String getOptimizer() {
        return getOrDefault(optimizer());
    }

    default DoubleParam learningRate() {
        return new DoubleParam(this, "learningRate", "the optimizer's learning rate (> 0)", Validators.gt(0));
    }

    default double getLearningRate() {
        return (Double) getOrDefault(learningRate());
    }

    /** Rows per mini-batch over all partitions together. */
    default IntParam batchSize() {
        return new IntParam(this, "batchSize", "rows per global mini-batch, all partitions together (>= 1)",
                Validators.gtEq(1));
    }

    default int getBatchSize() {
        return (Integer) getOrDefault(batchSize());
    }

    default IntParam maxEpochs() {
        return new IntParam(this, "maxEpochs", "the number of passes over the training data (>= 1)",
                Validators.gtEq(1));
    }

    default int getMaxEpochs() {
        return (Integer) getOrDefault(maxEpochs());
    }

    /**
     * Mini-batches each partition trains on its own between two synchronisations: 1 is synchronous
     * SGD, K &gt; 1 makes K times fewer Spark jobs, 0 lets the trainer choose K from the model size,
     * batch size and partition count so that Spark's overhead stays under about 20%.
     */
    default IntParam localSteps() {
        return new IntParam(this, "localSteps",
                "mini-batches each partition trains its own replica for between synchronisations (>= 0; "
                        + "1 is synchronous data parallelism, K > 1 makes K times fewer Spark jobs, 0 lets the "
                        + "trainer choose K so that Spark's overhead stays under about 20%)",
                Validators.gtEq(0));
    }

    default int getLocalSteps() {
        return (Integer) getOrDefault(localSteps());
    }

    /** How the learning rate changes over the epochs: constant or cosine. */
    default Param<String> lrSchedule() {
        return new Param<>(this, "lrSchedule",
                "learning rate schedule over the epochs: 'constant', or 'cosine' (annealed from learningRate to 0 "
                        + "over maxEpochs, stepped once per epoch, as PyTorch's CosineAnnealingLR)",
                Validators.oneOfIgnoreCase("constant", "cosine"));
    }

    default String getLrSchedule() {
        return getOrDefault(lrSchedule());
    }

    /** Where the executors train and a model scores: cpu, or an OpenCL device each executor picks. */
    default Param<String> device() {
        return new Param<>(this, "device",
                "where each executor trains its replica: 'cpu', 'opencl' (each executor picks one of its OpenCL "
                        + "devices) or 'opencl:N' (that device on every executor)",
                (Validators.Check<String>) v -> {
                    try {
                        io.sparkgrad.Device.of(v);
                        return true;
                    } catch (IllegalArgumentException e) {
                        return false;
                    }
                });
    }

    default String getDevice() {
        return getOrDefault(device());
    }

    /** How the driver applies the mean parameter change of local steps: averaging or nesterov. */
    default Param<String> outerOptimizer() {
        return new Param<>(this, "outerOptimizer",
                "with localSteps > 1, how the driver applies the replicas' mean parameter change: 'averaging' "
                        + "(plain model averaging) or 'nesterov' (DiLoCo: SGD lr 0.7, Nesterov momentum 0.9)",
                Validators.oneOfIgnoreCase("averaging", "nesterov"));
    }

    default String getOuterOptimizer() {
        return getOrDefault(outerOptimizer());
    }

    /** The share of training rows held out to validate after each epoch. */
    default DoubleParam validationFraction() {
        return new DoubleParam(this, "validationFraction",
                "share of the training rows held out for validation after each epoch, in [0, 1); 0 for none",
                Validators.inRangeHalfOpen(0, 1));
    }

    default double getValidationFraction() {
        return (Double) getOrDefault(validationFraction());
    }

    /** A boolean column: true marks validation rows (Spark's GBT convention). */
    default Param<String> validationIndicatorCol() {
        return new Param<>(this, "validationIndicatorCol",
                "name of a boolean column that is true for validation rows and false for training rows; "
                        + "unset or empty for none", Validators.any());
    }

    /** The validation indicator column, or {@code ""} when none is set. */
    default String getValidationIndicatorCol() {
        return isDefined(validationIndicatorCol()) ? getOrDefault(validationIndicatorCol()) : "";
    }

    /** Epochs without a better validation loss before training stops; 0 never stops early. */
    default IntParam earlyStoppingPatience() {
        return new IntParam(this, "earlyStoppingPatience",
                "with validation data, stop after this many epochs without a better validation loss and keep the "
                        + "best epoch's weights; 0 never stops early (>= 0)", Validators.gtEq(0));
    }

    default int getEarlyStoppingPatience() {
        return (Integer) getOrDefault(earlyStoppingPatience());
    }

    /** A Hadoop file system directory for checkpoints; a new fit pointed at it resumes. */
    default Param<String> checkpointDir() {
        return new Param<>(this, "checkpointDir",
                "directory (any Hadoop file system path) for training checkpoints; a fit pointed at a directory "
                        + "holding checkpoints resumes from the newest. Unset or empty for none", Validators.any());
    }

    /** The checkpoint directory, or {@code ""} when none is set. */
    default String getCheckpointDir() {
        return isDefined(checkpointDir()) ? getOrDefault(checkpointDir()) : "";
    }

    default IntParam checkpointInterval() {
        return new IntParam(this, "checkpointInterval",
                "steps between checkpoints when checkpointDir is set; 0 for one at the end of each epoch (>= 0)",
                Validators.gtEq(0));
    }

    default int getCheckpointInterval() {
        return (Integer) getOrDefault(checkpointInterval());
    }

    /** How long one training step may run before the fit fails instead of hanging (a stalled task). */
    default DoubleParam stepTimeoutSeconds() {
        return new DoubleParam(this, "stepTimeoutSeconds",
                "seconds one training step (a Spark job) may run before the fit is cancelled with an error naming "
                        + "the step and the partitions still running; 0 for no limit (>= 0)", Validators.gtEq(0));
    }

    default double getStepTimeoutSeconds() {
        return (Double) getOrDefault(stepTimeoutSeconds());
    }
}
