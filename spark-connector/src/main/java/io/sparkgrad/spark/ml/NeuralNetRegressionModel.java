package io.sparkgrad.spark.ml;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.StructType;

/**
 * A regressor fitted by {@link NeuralNetRegressor}: {@code transform} appends {@code prediction},
 * the network's single output. Saved with {@code write().save(path)}, read with {@link #load}.
 */
public final class NeuralNetRegressionModel extends NeuralNetModel<NeuralNetRegressionModel> {
    private static final long serialVersionUID = 1L;

    NeuralNetRegressionModel(String uid, int numFeatures, byte[] weights) {
        super(uid, numFeatures, 1, weights);
    }

    /** The prediction for one feature vector. */
    public double predict(Vector features) {
        return forward(features)[0];
    }

    static StructType appendOutputs(NeuralNetParams p, StructType schema) {
        return p.getPredictionCol().isEmpty() ? schema
                : Schemas.append(schema, Schemas.prediction(p.getPredictionCol(), 0));
    }

    @Override
    StructType appendOutputs(StructType schema) {
        return appendOutputs(this, schema);
    }

    @Override
    BatchScorer scorer(Broadcast<byte[]> weights) {
        return new BatchScorer(networkFactory(), weights, getFeaturesCol(), numFeatures(), 1,
                BatchScorer.Head.REGRESSOR, new boolean[] {true}, "skip".equalsIgnoreCase(getHandleInvalid()))
                .withDevice(getDevice());
    }

    @Override
    NeuralNetRegressionModel newInstance() {
        return new NeuralNetRegressionModel(uid(), numFeatures(), weightBytes());
    }

    public static MLReader<NeuralNetRegressionModel> read() {
        return new Reader<>(NeuralNetRegressionModel.class,
                (uid, numFeatures, numOutputs, weights) -> new NeuralNetRegressionModel(uid, numFeatures, weights));
    }

    /** Reads a model saved with {@code write().save(path)}; a corrupt or mismatched weights file is refused. */
    public static NeuralNetRegressionModel load(String path) {
        return read().load(path);
    }
}
