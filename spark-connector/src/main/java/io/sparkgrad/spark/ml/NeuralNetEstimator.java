package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.data.DataLayout;
import io.sparkgrad.spark.train.DistributedTrainer;
import io.sparkgrad.spark.train.LrSchedule;
import io.sparkgrad.spark.train.OptimizerSpec;
import io.sparkgrad.spark.train.SerializableSupplier;
import io.sparkgrad.spark.train.TrainerConfig;
import io.sparkgrad.spark.train.TrainingResult;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link NeuralNetClassifier} and {@link NeuralNetRegressor} share: the params with their
 * defaults and setters, the validation data, and a {@code fit} that checks the DataFrame, works out
 * the network's input and output widths, and hands the training to {@link DistributedTrainer}.
 *
 * @param <E> the concrete estimator type (what the setters return)
 * @param <M> the model it fits
 */
public abstract class NeuralNetEstimator<E extends NeuralNetEstimator<E, M>, M extends NeuralNetModel<M>>
        extends Estimator<M> implements NeuralNetParams, DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private transient Dataset<Row> validationData;

    NeuralNetEstimator(String uid) {
        this.uid = uid;
        Defaults.set(this);
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    final E self() {
        return (E) this;
    }

    // ------------------------------------------------------------------ setters

    public E setFeaturesCol(String value) {
        set(featuresCol(), value);
        return self();
    }

    public E setLabelCol(String value) {
        set(labelCol(), value);
        return self();
    }

    public E setPredictionCol(String value) {
        set(predictionCol(), value);
        return self();
    }

    /** A numeric column of non-negative row weights; empty for equal weights. */
    public E setWeightCol(String value) {
        set(weightCol(), value);
        return self();
    }

    public E setSeed(long value) {
        set(seed(), value);
        return self();
    }

    /** {@code "error"} or {@code "skip"}. */
    public E setHandleInvalid(String value) {
        set(handleInvalid(), value);
        return self();
    }

    /** Hidden layer widths of the default perceptron, e.g. {@code setHiddenLayers(256, 128)}. */
    public E setHiddenLayers(int... value) {
        set(hiddenLayers(), value.clone());
        return self();
    }

    /** relu, tanh, sigmoid or gelu. */
    public E setActivation(String value) {
        set(activation(), value);
        return self();
    }

    /** Any network, built by a serializable factory (a public class with a no-argument constructor can be saved). */
    public E setModuleFactory(SerializableSupplier<? extends Module> value) {
        set(moduleFactory(), value);
        return self();
    }

    /** sgd, adam or adamw. */
    public E setOptimizer(String value) {
        set(optimizer(), value);
        return self();
    }

    public E setLearningRate(double value) {
        set(learningRate(), value);
        return self();
    }

    public E setBatchSize(int value) {
        set(batchSize(), value);
        return self();
    }

    public E setMaxEpochs(int value) {
        set(maxEpochs(), value);
        return self();
    }

    /** K local steps per synchronisation; 0 lets the trainer choose. */
    public E setLocalSteps(int value) {
        set(localSteps(), value);
        return self();
    }

    /** constant or cosine. */
    public E setLrSchedule(String value) {
        set(lrSchedule(), value);
        return self();
    }

    /** averaging or nesterov. */
    /** {@code cpu}, {@code opencl} (each executor picks one of its OpenCL devices) or {@code opencl:N}. */
    public E setDevice(String value) {
        set(device(), value);
        return self();
    }

    public E setOuterOptimizer(String value) {
        set(outerOptimizer(), value);
        return self();
    }

    public E setValidationFraction(double value) {
        set(validationFraction(), value);
        return self();
    }

    public E setValidationIndicatorCol(String value) {
        set(validationIndicatorCol(), value);
        return self();
    }

    public E setEarlyStoppingPatience(int value) {
        set(earlyStoppingPatience(), value);
        return self();
    }

    public E setCheckpointDir(String value) {
        set(checkpointDir(), value);
        return self();
    }

    public E setCheckpointInterval(int value) {
        set(checkpointInterval(), value);
        return self();
    }

    public E setStepTimeoutSeconds(double value) {
        set(stepTimeoutSeconds(), value);
        return self();
    }

    /**
     * A DataFrame (same columns as the training data) to validate on after each epoch, for the
     * history and early stopping; null for none. Not a param: it is not saved with the estimator,
     * and {@link #copy} carries it over.
     */
    @SuppressWarnings("unchecked")
    public E setValidationData(Dataset<?> value) {
        this.validationData = value == null ? null : value.toDF();
        return self();
    }

    /** The validation DataFrame, or null. */
    public Dataset<Row> getValidationData() {
        return validationData;
    }

    // ------------------------------------------------------------------ what each estimator adds

    /** The number of classes in the training and validation labels (at least 2), or 0 for regression. */
    abstract int numClasses(Dataset<Row> train, Dataset<Row> validation);

    /** The network's output width for {@code numClasses}. */
    abstract int numOutputs(int numClasses);

    /** The model for trained {@code weights}. */
    abstract M newModel(int numFeatures, int numOutputs, byte[] weights);

    /** {@code schema} with the model's output columns (numClasses unknown before fitting: 0). */
    abstract StructType appendOutputs(StructType schema);

    // ------------------------------------------------------------------ fitting

    @Override
    public StructType transformSchema(StructType schema) {
        Schemas.checkFeatures(schema, getFeaturesCol());
        Schemas.checkNumeric(schema, getLabelCol(), "label");
        if (!getWeightCol().isEmpty()) {
            Schemas.checkNumeric(schema, getWeightCol(), "weight");
        }
        if (!getValidationIndicatorCol().isEmpty()) {
            Schemas.checkBoolean(schema, getValidationIndicatorCol(), "validation indicator");
        }
        return appendOutputs(schema);
    }

    /**
     * Trains the network on {@code dataset} with {@link DistributedTrainer} and returns the model
     * with its training summary.
     *
     * @throws IllegalArgumentException for a missing or mistyped column, conflicting validation
     *                                  settings, or a network whose output does not fit the task
     */
    @Override
    public M fit(Dataset<?> dataset) {
        long start = System.nanoTime();
        transformSchema(dataset.schema(), true);
        Dataset<Row> train = dataset.toDF();
        Dataset<Row> validation = validationData;
        String indicator = getValidationIndicatorCol();
        int validationSources = (validation != null ? 1 : 0) + (indicator.isEmpty() ? 0 : 1)
                + (getValidationFraction() > 0 ? 1 : 0);
        if (validationSources > 1) {
            throw new IllegalArgumentException("validation data is given more than one way (validationData="
                    + (validation != null) + ", validationIndicatorCol='" + indicator + "', validationFraction="
                    + getValidationFraction() + "); choose one");
        }
        if (!indicator.isEmpty()) {
            validation = train.filter(functions.col(indicator).equalTo(true));
            train = train.filter(functions.not(functions.col(indicator).equalTo(true)));
        }
        if (validation != null) {
            Schemas.checkFeatures(validation.schema(), getFeaturesCol());
            Schemas.checkNumeric(validation.schema(), getLabelCol(), "validation label");
        }
        int numClasses = numClasses(train, validation);
        int numOutputs = numOutputs(numClasses);
        String weight = getWeightCol().isEmpty() ? null : getWeightCol();
        boolean skip = "skip".equalsIgnoreCase(getHandleInvalid());
        int numFeatures = DataLayout.resolve(train, getFeaturesCol(), null, getLabelCol(), numClasses, weight, skip)
                .numFeatures();
        SerializableSupplier<? extends Module> network = getModuleFactory() != null ? getModuleFactory()
                : Mlp.of(numFeatures, getHiddenLayers(), numOutputs, getActivation(), getSeed());
        checkNetwork(network, numFeatures, numOutputs);

        TrainerConfig config = TrainerConfig.builder()
                .model(network)
                .numClasses(numClasses)
                .optimizer(OptimizerSpec.of(getOptimizer(), getLearningRate()))
                .lrSchedule(LrSchedule.valueOf(getLrSchedule().toUpperCase(Locale.ROOT)))
                .batchSize(getBatchSize())
                .maxEpochs(getMaxEpochs())
                .seed(getSeed())
                .localSteps(getLocalSteps())
                .outerOptimizer("nesterov".equalsIgnoreCase(getOuterOptimizer()) ? OptimizerSpec.nesterovOuter()
                        : OptimizerSpec.averaging())
                .checkpointDir(getCheckpointDir().isEmpty() ? null : getCheckpointDir())
                .checkpointInterval(getCheckpointInterval())
                .stepTimeout(Duration.ofNanos(Math.round(getStepTimeoutSeconds() * 1e9)))
                .validationFraction(getValidationFraction())
                .earlyStoppingPatience(getEarlyStoppingPatience())
                .handleInvalid(getHandleInvalid())
                .featuresCol(getFeaturesCol())
                .labelCol(getLabelCol())
                .weightCol(weight)
                .device(getDevice())
                .build();
        TrainingResult result = new DistributedTrainer(config).fit(train, validation);
        if (result.numFeatures() != numFeatures) {
            throw new IllegalStateException("the trainer saw " + result.numFeatures() + " features, expected "
                    + numFeatures);
        }
        byte[] weights = Weights.encode(result.stateDict(), Map.of("format", "pt", "producer", "sparkgrad"));
        M model = copyValues(newModel(numFeatures, numOutputs, weights), ParamMap.empty());
        model.setSummary(new NeuralNetTrainingSummary(result, (System.nanoTime() - start) / 1e9));
        model.setParent(this);
        return model;
    }

    /** Runs the network once on a zero row to check that its output fits the task, before any Spark job. */
    private void checkNetwork(SerializableSupplier<? extends Module> factory, int numFeatures, int numOutputs) {
        Module net = factory.get();
        if (net == null) {
            throw new IllegalArgumentException("the network factory " + factory + " returned null");
        }
        int[] shape;
        try (GradMode.Guard g = GradMode.noGrad()) {
            shape = net.eval().apply(Tensor.zeros(2, numFeatures)).shape();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the network from " + factory + " fails on input of shape [2, "
                    + numFeatures + "] (the data has " + numFeatures + " features): " + e.getMessage(), e);
        }
        boolean ok = (shape.length == 2 && shape[0] == 2 && shape[1] == numOutputs)
                || (numOutputs == 1 && shape.length == 1 && shape[0] == 2);
        if (!ok) {
            throw new IllegalArgumentException("the network from " + factory + " returns shape "
                    + Arrays.toString(shape) + " for input [2, " + numFeatures + "]; this task needs [batch, "
                    + numOutputs + "]" + (numOutputs > 1 ? " (one logit per class)" : ""));
        }
    }

    /** A copy with the same uid, params ({@code extra} applied) and validation data. */
    @Override
    public E copy(ParamMap extra) {
        E copy = defaultCopy(extra);
        copy.setValidationData(validationData);
        return copy;
    }
}
