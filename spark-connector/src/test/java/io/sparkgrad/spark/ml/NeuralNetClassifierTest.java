package io.sparkgrad.spark.ml;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.nn.Tanh;
import io.sparkgrad.spark.data.InvalidRowException;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The estimators fitting for real on {@code local[2]}: learning, determinism, Pipeline, CrossValidator, bad input. */
class NeuralNetClassifierTest {
    private static SparkSession spark;
    private static Dataset<Row> train;
    private static Dataset<Row> test;

    /** A saveable custom network for 4 features and 3 classes. */
    public static final class TanhNet implements SerializableSupplier<Module> {
        private static final long serialVersionUID = 1L;

        @Override
        public Module get() {
            return new Sequential(new Linear(4, 12), new Tanh(), new Linear(12, 3));
        }
    }

    @BeforeAll
    static void start() {
        spark = SparkTests.session("NeuralNetClassifierTest", false);
        train = SparkTests.blobs(600, 3, 4, 1, 2).cache();
        test = SparkTests.blobs(300, 3, 4, 2, 2).cache();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Small and quick: 600 rows, 16 hidden units, a few epochs. */
    private static NeuralNetClassifier quick() {
        return new NeuralNetClassifier().setHiddenLayers(16).setBatchSize(32).setMaxEpochs(4).setLearningRate(0.01)
                .setSeed(3);
    }

    private static double accuracy(Dataset<Row> predictions) {
        return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions);
    }

    @Test
    void fitLearnsAndTheModelKeepsItsHistory() {
        NeuralNetClassifier clf = quick();
        NeuralNetClassificationModel model = clf.fit(train);
        assertTrue(accuracy(model.transform(test)) > 0.9, "accuracy on held-out blobs");
        assertEquals(4, model.numFeatures());
        assertEquals(3, model.numClasses());
        assertSame(clf, model.parent());
        assertEquals(clf.uid(), model.uid());
        assertEquals(4, model.getMaxEpochs());
        assertArrayEquals(new int[] {16}, model.getHiddenLayers());

        NeuralNetTrainingSummary s = model.summary();
        assertEquals(4, s.totalEpochs());
        assertEquals(4, s.history().size());
        double[] loss = s.objectiveHistory();
        assertTrue(loss[3] < loss[0], "loss falls: " + Arrays.toString(loss));
        for (int e = 0; e < 4; e++) {
            assertTrue(s.rowsPerSecond()[e] > 0);
            assertTrue(s.sparkOverheadShare()[e] >= 0 && s.sparkOverheadShare()[e] <= 1);
            assertTrue(Double.isNaN(s.validationMetricHistory()[e]), "no validation data");
        }
        assertEquals(600, s.trainRows());
        assertEquals(0, s.skippedRows());
        int k = s.localSteps(); // chosen by the trainer (localSteps = 0)
        assertTrue(k >= 1);
        assertEquals(4 * (long) Math.ceil(19.0 / k), s.totalSteps(), "19 mini-batches per epoch, K = " + k);
        assertTrue(s.fitSeconds() > 0);
        assertTrue(s.toString().contains("epoch 4:"), s.toString());
        // The summary travels with copies.
        assertSame(s, model.copy(ParamMap.empty()).summary());
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        byte[] a = quick().setMaxEpochs(1).fit(train).weightsSafetensors();
        byte[] b = quick().setMaxEpochs(1).fit(train).weightsSafetensors();
        byte[] c = quick().setMaxEpochs(1).setSeed(4).fit(train).weightsSafetensors();
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
    }

    /**
     * A network whose forward pass on a training batch never returns (until its task is
     * interrupted): a stalled step. The estimator's two-row probe on the driver passes through.
     */
    public static final class StallingNet implements io.sparkgrad.spark.train.SerializableSupplier<io.sparkgrad.nn.Module> {
        private static final long serialVersionUID = 1L;

        @Override
        public io.sparkgrad.nn.Module get() {
            return new Stalling();
        }
    }

    static final class Stalling extends io.sparkgrad.nn.Module {
        private final io.sparkgrad.nn.Linear linear = new io.sparkgrad.nn.Linear(4, 3);

        Stalling() {
            registerModule("linear", linear);
        }

        @Override
        public io.sparkgrad.Tensor forward(io.sparkgrad.Tensor input) {
            if (input.size(0) > 2) {
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("stalled forward pass interrupted", e);
                }
            }
            return linear.forward(input);
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(120)
    void theStepTimeoutParamReachesTheTrainer() {
        Exception e = assertThrows(Exception.class,
                () -> quick().setModuleFactory(new StallingNet()).setStepTimeoutSeconds(2).fit(train));
        Throwable t = e;
        while (t != null && !(t instanceof io.sparkgrad.spark.train.StepTimeoutException)) {
            t = t.getCause();
        }
        assertNotNull(t, "expected a StepTimeoutException, got " + e);
        assertTrue(t.getMessage().contains("stepTimeout = 2 s"), t.getMessage());
    }

    /** {@code x0..x3} as separate numeric columns, for VectorAssembler. */
    private static Dataset<Row> columns(Dataset<Row> df) {
        Dataset<Row> out = df;
        for (int j = 0; j < 4; j++) {
            final int k = j;
            out = out.withColumn("x" + j, functions.udf((Vector v) -> v.apply(k) * (k + 1) * 10 + k,
                    DataTypes.DoubleType).apply(functions.col("features")));
        }
        return out.drop("features");
    }

    @Test
    void pipelineWithAssemblerAndScalerFitsTransformsSavesAndLoads(@TempDir Path dir) throws IOException {
        VectorAssembler assembler = new VectorAssembler().setInputCols(new String[] {"x0", "x1", "x2", "x3"})
                .setOutputCol("raw");
        StandardScaler scaler = new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true);
        Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {assembler, scaler, quick()});
        PipelineModel fitted = pipeline.fit(columns(train));
        Dataset<Row> predictions = fitted.transform(columns(test));
        assertTrue(accuracy(predictions) > 0.9);

        String modelPath = dir.resolve("pipeline-model").toString();
        fitted.write().save(modelPath);
        PipelineModel loaded = PipelineModel.load(modelPath);
        assertTrue(loaded.stages()[2] instanceof NeuralNetClassificationModel);
        assertEquals(predictions.select("probability", "prediction").collectAsList(),
                loaded.transform(columns(test)).select("probability", "prediction").collectAsList());

        // The unfitted pipeline, with the estimator's params, saves and loads too.
        String pipelinePath = dir.resolve("pipeline").toString();
        pipeline.write().save(pipelinePath);
        NeuralNetClassifier back = (NeuralNetClassifier) Pipeline.load(pipelinePath).getStages()[2];
        assertArrayEquals(new int[] {16}, back.getHiddenLayers());
        assertEquals(0.01, back.getLearningRate());
        assertEquals(3, back.getSeed());
    }

    @Test
    void crossValidatorPicksAmongParamMaps() {
        NeuralNetClassifier clf = quick().setMaxEpochs(2);
        ParamMap[] grid = new ParamGridBuilder()
                .addGrid(clf.learningRate(), new double[] {1e-5, 0.02})
                .build();
        CrossValidator cv = new CrossValidator().setEstimator(clf).setEstimatorParamMaps(grid).setNumFolds(2)
                .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy")).setSeed(5);
        CrossValidatorModel m = cv.fit(train);
        assertEquals(2, m.avgMetrics().length);
        assertTrue(m.avgMetrics()[1] > m.avgMetrics()[0], Arrays.toString(m.avgMetrics()));
        NeuralNetClassificationModel best = (NeuralNetClassificationModel) m.bestModel();
        assertEquals(0.02, best.getLearningRate());
        assertTrue(accuracy(m.transform(test)) > 0.9);
    }

    /** 12 rows in one partition: row 3 null features, 5 NaN, 7 label -1, 9 label 2.5, 11 wrong length. */
    private static Dataset<Row> withInvalidRows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Vector v = i == 3 ? null : i == 5 ? Vectors.dense(Double.NaN, 0, 0, 0)
                    : i == 11 ? Vectors.dense(1, 2) : Vectors.dense(i % 2 * 3, 0, 1, i % 3);
            double label = i == 7 ? -1 : i == 9 ? 2.5 : i % 2;
            rows.add(RowFactory.create(v, label));
        }
        return spark.createDataFrame(rows, SparkTests.vectorSchema()).coalesce(1);
    }

    @Test
    void handleInvalidSkipDropsAndCountsAndErrorNamesTheRow() {
        NeuralNetClassificationModel m = quick().setMaxEpochs(1).setHandleInvalid("skip").fit(withInvalidRows());
        NeuralNetTrainingSummary s = m.summary();
        assertEquals(5, s.skippedRows(), s.skippedByReason().toString());
        assertEquals(35, s.trainRows());
        assertEquals(2, m.numClasses());

        RuntimeException e = assertThrows(RuntimeException.class,
                () -> quick().setMaxEpochs(1).fit(withInvalidRows()));
        InvalidRowException cause = NeuralNetModelTest.findCause(e, InvalidRowException.class);
        assertEquals("features", cause.column());
        assertEquals(3, cause.row());
        assertEquals(0, cause.partition());
    }

    @Test
    void badInputsGetClearErrorsBeforeTraining() {
        assertMessage(() -> quick().setFeaturesCol("nope").fit(train), "features column 'nope' does not exist");
        assertMessage(() -> quick().setFeaturesCol("label").fit(train), "features column 'label' has type double");
        Dataset<Row> stringLabels = train.withColumn("label", functions.col("label").cast("string"));
        assertMessage(() -> quick().fit(stringLabels), "label column 'label' has type string");
        assertMessage(() -> quick().setWeightCol("w").fit(train), "weight column 'w' does not exist");
        assertMessage(() -> quick().fit(train.withColumn("label", functions.lit(0.0))), "only one class");
        assertMessage(() -> quick().fit(train.withColumn("label", functions.lit(null).cast("double"))),
                "holds no class index");
        assertMessage(() -> quick().fit(train.withColumn("label", functions.lit(1e9))), "class indices");
        assertMessage(() -> quick().setValidationFraction(0.1).setValidationData(test).fit(train), "choose one");
        assertMessage(() -> quick().setModuleFactory(() -> new Linear(4, 5)).fit(train),
                "returns shape [2, 5] for input [2, 4]; this task needs [batch, 3]");
        assertMessage(() -> quick().setModuleFactory(() -> new Linear(7, 3)).fit(train), "fails on input of shape [2, 4]");
        assertMessage(() -> quick().fit(train.withColumn("prediction", functions.lit(1))),
                "output column 'prediction' already exists");
    }

    private static void assertMessage(Runnable r, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void validationFractionDataFrameOrIndicatorColumn() {
        NeuralNetTrainingSummary byFraction = quick().setMaxEpochs(2).setValidationFraction(0.25).fit(train).summary();
        assertTrue(byFraction.validationRows() > 100 && byFraction.validationRows() < 200, "" + byFraction.validationRows());
        assertEquals(600, byFraction.trainRows() + byFraction.validationRows());
        assertEquals("accuracy", byFraction.metricName());
        assertTrue(byFraction.validationMetricHistory()[1] > 0.8);

        NeuralNetTrainingSummary byFrame = quick().setMaxEpochs(2).setValidationData(test).fit(train).summary();
        assertEquals(300, byFrame.validationRows());
        assertEquals(600, byFrame.trainRows());

        Dataset<Row> marked = train.withColumn("isVal", functions.col("label").equalTo(2.0)
                .and(functions.rand(1).lt(0.5)));
        long expected = marked.filter("isVal").count();
        NeuralNetTrainingSummary byColumn = quick().setMaxEpochs(1).setValidationIndicatorCol("isVal").fit(marked)
                .summary();
        assertEquals(expected, byColumn.validationRows());
        assertEquals(600 - expected, byColumn.trainRows());
    }

    @Test
    void earlyStoppingKeepsTheBestEpoch() {
        // Labels with no relation to the features: the network can only overfit, so validation loss rises.
        Dataset<Row> noise = train.withColumn("label", functions.floor(functions.rand(9).multiply(3)));
        NeuralNetClassificationModel m = quick().setHiddenLayers(64).setLearningRate(0.05).setMaxEpochs(30)
                .setValidationFraction(0.3).setEarlyStoppingPatience(2).fit(noise);
        NeuralNetTrainingSummary s = m.summary();
        assertTrue(s.stoppedEarly(), s.toString());
        assertTrue(s.totalEpochs() < 30);
        assertEquals(s.totalEpochs() - 2, s.bestEpoch(), s.toString());
        double[] val = s.validationLossHistory();
        for (double v : val) {
            assertTrue(val[s.bestEpoch() - 1] <= v, Arrays.toString(val));
        }
    }

    @Test
    void zeroWeightRowsDoNotCount() {
        // Half the rows carry a wrong label but weigh nothing.
        Dataset<Row> mixed = train.withColumn("w", functions.lit(1.0))
                .union(train.withColumn("label", functions.pmod(functions.col("label").plus(1), functions.lit(3.0)))
                        .withColumn("w", functions.lit(0.0)))
                .repartition(2);
        NeuralNetClassificationModel m = quick().setWeightCol("w").setBatchSize(64).fit(mixed);
        assertTrue(accuracy(m.transform(test)) > 0.9);
        assertEquals(1200, m.summary().trainRows());
    }

    @Test
    void customNetworkFitsSavesAndLoads(@TempDir Path dir) throws IOException {
        NeuralNetClassifier clf = quick().setModuleFactory(new TanhNet());
        NeuralNetClassificationModel m = clf.fit(train);
        assertTrue(accuracy(m.transform(test)) > 0.9);
        assertTrue(m.network() instanceof Sequential);
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), new ArrayList<>(m.stateDict().keySet()));
        String path = dir.resolve("custom").toString();
        m.write().save(path);
        NeuralNetClassificationModel back = NeuralNetClassificationModel.load(path);
        assertTrue(back.getModuleFactory() instanceof TanhNet);
        assertEquals(m.transform(test).select("rawPrediction").collectAsList(),
                back.transform(test).select("rawPrediction").collectAsList());
        String estimatorPath = dir.resolve("estimator").toString();
        clf.write().save(estimatorPath);
        assertTrue(NeuralNetClassifier.load(estimatorPath).getModuleFactory() instanceof TanhNet);
    }

    @Test
    void checkpointsAreWrittenAndAFitResumesFromThem(@TempDir Path dir) throws IOException {
        String ckpt = dir.resolve("ckpt").toString();
        NeuralNetClassificationModel first = quick().setMaxEpochs(2).setCheckpointDir(ckpt).fit(train);
        try (var files = Files.list(dir.resolve("ckpt"))) {
            assertTrue(files.findAny().isPresent(), "checkpoints written");
        }
        assertEquals(0, first.summary().resumedFromStep());
        NeuralNetClassificationModel again = quick().setMaxEpochs(2).setCheckpointDir(ckpt).fit(train);
        assertEquals(first.summary().totalSteps(), again.summary().resumedFromStep());
        assertArrayEquals(first.weightsSafetensors(), again.weightsSafetensors());
    }

    @Test
    void regressorFitsALinearFunction() {
        Dataset<Row> data = SparkTests.linear(800, 5, 2);
        NeuralNetRegressionModel m = new NeuralNetRegressor().setHiddenLayers(16).setActivation("tanh")
                .setLearningRate(0.02).setBatchSize(64).setMaxEpochs(6).setSeed(1).setValidationFraction(0.2)
                .fit(data);
        Dataset<Row> held = SparkTests.linear(200, 6, 2);
        double rmse = new RegressionEvaluator().setMetricName("rmse").evaluate(m.transform(held));
        double sd = held.agg(functions.stddev_pop("label")).head().getDouble(0); // a constant's rmse
        assertTrue(rmse < 0.2 * sd, "rmse " + rmse + " against the label's standard deviation " + sd);
        assertEquals("rmse", m.summary().metricName());
        assertEquals(m.summary().validationMetricHistory()[5], m.summary().validationMetricHistory()[5]); // not NaN
        assertEquals(1, m.numOutputs());
    }
}
