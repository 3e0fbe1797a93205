package io.sparkgrad.spark.ml;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.StructType;

/**
 * A classifier fitted by {@link NeuralNetClassifier}. {@code transform} appends
 * {@code rawPrediction} (the network's logits), {@code probability} (their softmax) and
 * {@code prediction} (the index of the largest logit, as a double); setting a column's name to
 * {@code ""} leaves it out. Saved with {@code write().save(path)}, read with {@link #load}.
 */
public final class NeuralNetClassificationModel extends NeuralNetModel<NeuralNetClassificationModel>
        implements NeuralNetClassifierParams {
    private static final long serialVersionUID = 1L;

    NeuralNetClassificationModel(String uid, int numFeatures, int numClasses, byte[] weights) {
        super(uid, numFeatures, numClasses, weights);
    }

    /** The number of classes (the network's output width). */
    public int numClasses() {
        return numOutputs();
    }

    public NeuralNetClassificationModel setProbabilityCol(String value) {
        set(probabilityCol(), value);
        return this;
    }

    public NeuralNetClassificationModel setRawPredictionCol(String value) {
        set(rawPredictionCol(), value);
        return this;
    }

    /** The logits for one feature vector. */
    public Vector predictRaw(Vector features) {
        return Vectors.dense(forward(features));
    }

    /** The class probabilities (softmax of the logits) for one feature vector. */
    public Vector predictProbability(Vector features) {
        return Vectors.dense(BatchScorer.softmax(forward(features)));
    }

    /** The most likely class for one feature vector. */
    public double predict(Vector features) {
        return BatchScorer.argmax(forward(features));
    }

    static StructType appendOutputs(NeuralNetClassifierParams p, StructType schema, int numClasses) {
        StructType out = schema;
        if (!p.getRawPredictionCol().isEmpty()) {
            out = Schemas.append(out, Schemas.vector(p.getRawPredictionCol(), numClasses > 0 ? numClasses : -1));
        }
        if (!p.getProbabilityCol().isEmpty()) {
            out = Schemas.append(out, Schemas.vector(p.getProbabilityCol(), numClasses > 0 ? numClasses : -1));
        }
        if (!p.getPredictionCol().isEmpty()) {
            out = Schemas.append(out, Schemas.prediction(p.getPredictionCol(), numClasses));
        }
        return out;
    }

    @Override
    StructType appendOutputs(StructType schema) {
        return appendOutputs(this, schema, numClasses());
    }

    @Override
    BatchScorer scorer(Broadcast<byte[]> weights) {
        boolean[] columns = {!getRawPredictionCol().isEmpty(), !getProbabilityCol().isEmpty(),
                !getPredictionCol().isEmpty()};
        return new BatchScorer(networkFactory(), weights, getFeaturesCol(), numFeatures(), numClasses(),
                BatchScorer.Head.CLASSIFIER, columns, "skip".equalsIgnoreCase(getHandleInvalid()))
                .withDevice(getDevice());
    }

    @Override
    NeuralNetClassificationModel newInstance() {
        return new NeuralNetClassificationModel(uid(), numFeatures(), numClasses(), weightBytes());
    }

    public static MLReader<NeuralNetClassificationModel> read() {
        return new Reader<>(NeuralNetClassificationModel.class, NeuralNetClassificationModel::new);
    }

    /** Reads a model saved with {@code write().save(path)}; a corrupt or mismatched weights file is refused. */
    public static NeuralNetClassificationModel load(String path) {
        return read().load(path);
    }
}
