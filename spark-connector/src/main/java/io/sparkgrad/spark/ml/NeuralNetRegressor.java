package io.sparkgrad.spark.ml;

import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A neural network regressor trained data-parallel on Spark by Sparkgrad: the network (by default
 * a perceptron with {@code hiddenLayers} and one output) is fitted to a real-valued label with the
 * mean squared error; the model outputs {@code prediction}.
 *
 * <pre>{@code
 * NeuralNetRegressionModel model = new NeuralNetRegressor()
 *         .setHiddenLayers(64, 64).setActivation("tanh")
 *         .setLearningRate(3e-3).setMaxEpochs(20)
 *         .setValidationFraction(0.1).setEarlyStoppingPatience(3)
 *         .fit(train);
 * System.out.println(model.summary());
 * }</pre>
 */
public final class NeuralNetRegressor extends NeuralNetEstimator<NeuralNetRegressor, NeuralNetRegressionModel> {
    private static final long serialVersionUID = 1L;

    public NeuralNetRegressor() {
        this(Identifiable.randomUID("nnRegressor"));
    }

    public NeuralNetRegressor(String uid) {
        super(uid);
    }

    @Override
    int numClasses(Dataset<Row> train, Dataset<Row> validation) {
        return 0;
    }

    @Override
    int numOutputs(int numClasses) {
        return 1;
    }

    @Override
    NeuralNetRegressionModel newModel(int numFeatures, int numOutputs, byte[] weights) {
        return new NeuralNetRegressionModel(uid(), numFeatures, weights);
    }

    @Override
    StructType appendOutputs(StructType schema) {
        return NeuralNetRegressionModel.appendOutputs(this, schema);
    }

    /** Reads an estimator saved with {@code write().save(path)}. */
    public static MLReader<NeuralNetRegressor> read() {
        return new DefaultParamsReadable<NeuralNetRegressor>() { }.read();
    }

    public static NeuralNetRegressor load(String path) {
        return read().load(path);
    }
}
