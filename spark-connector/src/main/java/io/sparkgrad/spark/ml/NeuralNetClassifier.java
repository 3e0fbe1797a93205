package io.sparkgrad.spark.ml;

import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.BinaryAttribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A neural network classifier trained data-parallel on Spark by Sparkgrad: Spark ML's
 * {@code MultilayerPerceptronClassifier}, with any depth and activation or any engine network,
 * minibatch Adam/AdamW/SGD, validation with early stopping, checkpoints and local steps.
 *
 * <pre>{@code
 * NeuralNetClassifier clf = new NeuralNetClassifier()
 *         .setHiddenLayers(256, 128).setActivation("relu")
 *         .setOptimizer("adam").setLearningRate(1e-3)
 *         .setBatchSize(128).setMaxEpochs(10).setSeed(42);
 * Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {assembler, scaler, clf});
 * PipelineModel model = pipeline.fit(train);
 * model.transform(test).select("prediction", "probability").show();
 * }</pre>
 *
 * <p>Labels are class indices {@code 0, 1, …, numClasses - 1} (doubles or integers, as
 * {@code StringIndexer} makes them). The number of classes comes from the label column's metadata
 * when it has any, otherwise from the largest valid label; the network ends in that many logits and
 * trains with cross-entropy. The model outputs {@code rawPrediction} (the logits),
 * {@code probability} (their softmax) and {@code prediction} (the most likely class).
 */
public final class NeuralNetClassifier extends NeuralNetEstimator<NeuralNetClassifier, NeuralNetClassificationModel>
        implements NeuralNetClassifierParams {
    private static final long serialVersionUID = 1L;
    /** Labels above this are taken for a mistake rather than for that many classes (set label metadata to go beyond). */
    static final int MAX_INFERRED_CLASSES = 100_000;

    public NeuralNetClassifier() {
        this(Identifiable.randomUID("nnClassifier"));
    }

    public NeuralNetClassifier(String uid) {
        super(uid);
    }

    public NeuralNetClassifier setProbabilityCol(String value) {
        set(probabilityCol(), value);
        return this;
    }

    public NeuralNetClassifier setRawPredictionCol(String value) {
        set(rawPredictionCol(), value);
        return this;
    }

    @Override
    int numClasses(Dataset<Row> train, Dataset<Row> validation) {
        String label = getLabelCol();
        Attribute attr = Attribute.fromStructField(train.schema().apply(label));
        if (attr instanceof BinaryAttribute) {
            return 2;
        }
        if (attr instanceof NominalAttribute && ((NominalAttribute) attr).getNumValues().isDefined()) {
            int n = (Integer) ((NominalAttribute) attr).getNumValues().get();
            if (n < 2) {
                throw new IllegalArgumentException("label column '" + label + "' has metadata saying " + n
                        + " class; a classifier needs at least 2");
            }
            return n;
        }
        Dataset<Row> labels = train.select(label);
        if (validation != null) {
            labels = labels.union(validation.select(label));
        }
        Column y = functions.col(label).cast(DataTypes.DoubleType);
        Column valid = y.isNotNull().and(functions.not(functions.isnan(y))).and(y.geq(0))
                .and(y.equalTo(functions.floor(y)));
        Row r = labels.agg(functions.max(functions.when(valid, y))).head();
        if (r.isNullAt(0)) {
            throw new IllegalArgumentException("label column '" + label + "' holds no class index (every label is null, "
                    + "NaN, negative or fractional, or the DataFrame is empty)");
        }
        double max = r.getDouble(0);
        if (max + 1 > MAX_INFERRED_CLASSES) {
            throw new IllegalArgumentException("label column '" + label + "' has the label " + max
                    + ", which would make " + (long) (max + 1) + " classes; labels must be class indices 0, 1, … "
                    + "(use StringIndexer), or give the column nominal metadata with the number of classes");
        }
        if (max < 1) {
            throw new IllegalArgumentException("label column '" + label + "' has only one class (every valid label is "
                    + "0); a classifier needs at least 2");
        }
        return (int) max + 1;
    }

    @Override
    int numOutputs(int numClasses) {
        return numClasses;
    }

    @Override
    NeuralNetClassificationModel newModel(int numFeatures, int numOutputs, byte[] weights) {
        return new NeuralNetClassificationModel(uid(), numFeatures, numOutputs, weights);
    }

    @Override
    StructType appendOutputs(StructType schema) {
        return NeuralNetClassificationModel.appendOutputs(this, schema, 0);
    }

    /** Reads an estimator saved with {@code write().save(path)}. */
    public static MLReader<NeuralNetClassifier> read() {
        return new DefaultParamsReadable<NeuralNetClassifier>() { }.read();
    }

    public static NeuralNetClassifier load(String path) {
        return read().load(path);
    }
}
