package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.train.EpochStats;
import io.sparkgrad.spark.train.TrainerConfig;
import io.sparkgrad.spark.train.TrainingResult;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * A network trained by {@link ModuleTrainer}: the engine module with its trained weights, the
 * training history, batched inference over DataFrames on the executors (weights broadcast once),
 * safetensors files, and a bridge to the Spark ML models.
 */
public final class TrainedModule {
    private final TrainerConfig config;
    private final TrainingResult result;
    private final byte[] weights;
    private final NeuralNetTrainingSummary summary;
    private final int numOutputs;
    private final BatchScorer.Cache broadcast = new BatchScorer.Cache();

    TrainedModule(TrainerConfig config, TrainingResult result, byte[] weights, double fitSeconds) {
        this.config = config;
        this.result = result;
        this.weights = weights;
        this.summary = new NeuralNetTrainingSummary(result, fitSeconds);
        this.numOutputs = outputWidth();
    }

    private int outputWidth() {
        Module net = network();
        int[] example = config.inputShape() != null ? config.inputShape() : new int[] {result.numFeatures()};
        int[] shape = new int[example.length + 1];
        shape[0] = 1;
        System.arraycopy(example, 0, shape, 1, example.length);
        try (GradMode.Guard g = GradMode.noGrad()) {
            int[] out = net.apply(Tensor.zeros(shape)).shape();
            return out.length == 1 ? 1 : Arrays.stream(out).skip(1).reduce(1, (a, b) -> a * b);
        }
    }

    /** The configuration it was trained with. */
    public TrainerConfig config() {
        return config;
    }

    /** The trainer's result (model, history, row counts). */
    public TrainingResult result() {
        return result;
    }

    /** A new copy of the trained network, in evaluation mode. */
    public Module network() {
        return Weights.build(config.model(), weights, "the trained weights");
    }

    /** One entry per epoch. */
    public List<EpochStats> history() {
        return result.history();
    }

    /** The history with per-epoch columns and row counts. */
    public NeuralNetTrainingSummary summary() {
        return summary;
    }

    /** The length of the feature vectors the network was trained on. */
    public int numFeatures() {
        return result.numFeatures();
    }

    /** The width of one output row of the network. */
    public int numOutputs() {
        return numOutputs;
    }

    /** The trained weights as safetensors bytes (a copy). */
    public byte[] weightsSafetensors() {
        return weights.clone();
    }

    /**
     * {@code df} with a vector column {@code outputCol} holding the network's output for each row's
     * features (from the configuration's features column), computed on the executors in batches.
     * Rows with invalid features fail or are dropped as the configuration's {@code handleInvalid} says.
     */
    public Dataset<Row> transform(Dataset<?> df, String outputCol) {
        String featuresCol = config.featuresCol();
        if (config.featureCols() != null) {
            throw new UnsupportedOperationException("transform reads one features column; this network was trained "
                    + "on several (" + String.join(", ", config.featureCols()) + "): assemble them with VectorAssembler");
        }
        StructType schema = df.schema();
        Schemas.checkFeatures(schema, featuresCol);
        StructType out = Schemas.append(schema, Schemas.vector(outputCol, numOutputs));
        Dataset<Row> rows = df.toDF();
        BatchScorer scorer = new BatchScorer(config.model(), broadcast.get(rows.sparkSession().sparkContext(), weights),
                featuresCol, numFeatures(), numOutputs, BatchScorer.Head.VECTOR, new boolean[] {true},
                config.handleInvalid() == io.sparkgrad.spark.train.HandleInvalid.SKIP)
                .withExampleShape(config.inputShape());
        return scorer.transform(rows, out);
    }

    /**
     * Writes the weights as a safetensors file to {@code path} on any Hadoop file system (temporary
     * file, then rename), using the active Spark session's Hadoop configuration.
     */
    public void save(String path) throws IOException {
        SparkSession spark = SparkSession.active();
        Weights.write(weights, new Path(path), spark.sessionState().newHadoopConf());
    }

    /**
     * This network as a Spark ML classification model (rawPrediction, probability, prediction), for a
     * {@code Pipeline} or an evaluator. Its {@code moduleFactory} is the configuration's factory: the
     * model can be saved when that factory is a public class with a no-argument constructor.
     */
    public NeuralNetClassificationModel toClassificationModel() {
        if (!config.isClassification() || config.inputShape() != null) {
            throw new IllegalStateException("only a classifier over flat feature vectors becomes a "
                    + "NeuralNetClassificationModel; this one was trained with loss " + config.loss()
                    + (config.inputShape() != null ? " and inputShape " + Arrays.toString(config.inputShape()) : ""));
        }
        NeuralNetClassificationModel m = new NeuralNetClassificationModel(Identifiable.randomUID("nnClassifier"),
                numFeatures(), numOutputs, weights);
        configure(m);
        return m.setSummary(summary);
    }

    /** This network as a Spark ML regression model (prediction); see {@link #toClassificationModel()}. */
    public NeuralNetRegressionModel toRegressionModel() {
        if (config.isClassification() || numOutputs != 1 || config.inputShape() != null) {
            throw new IllegalStateException("only a regressor with one output over flat feature vectors becomes a "
                    + "NeuralNetRegressionModel; this one has loss " + config.loss() + " and " + numOutputs + " outputs");
        }
        NeuralNetRegressionModel m = new NeuralNetRegressionModel(Identifiable.randomUID("nnRegressor"), numFeatures(),
                weights);
        configure(m);
        return m.setSummary(summary);
    }

    private void configure(NeuralNetModel<?> m) {
        m.set(m.moduleFactory(), config.model());
        m.set(m.featuresCol(), config.featuresCol());
        m.set(m.labelCol(), config.labelCol());
        m.set(m.seed(), config.seed());
        m.set(m.handleInvalid(), config.handleInvalid().sparkName());
        m.set(m.optimizer(), config.optimizer().name());
        m.set(m.learningRate(), config.optimizer().lr());
        m.set(m.batchSize(), config.batchSize());
        m.set(m.maxEpochs(), config.maxEpochs());
        m.set(m.localSteps(), result.localSteps());
        m.set(m.lrSchedule(), config.lrSchedule().name().toLowerCase(java.util.Locale.ROOT));
        if (config.weightCol() != null) {
            m.set(m.weightCol(), config.weightCol());
        }
    }
}
