package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Flatten;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.data.InvalidReason;
import io.sparkgrad.spark.data.InvalidRowException;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole training runs: accuracy reached, history, validation, early stopping, feature sources, bad rows. */
class TrainingRunTest {
    private static final SparkTestSupport.Blobs BLOBS = new SparkTestSupport.Blobs(20, 5, 1.5, 31);
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("TrainingRunTest");
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    private static double accuracy(Module m, long from, long to) {
        try (var g = GradMode.noGrad()) {
            int n = (int) (to - from);
            long[] pred = m.forward(Tensor.wrap(BLOBS.featureMatrix(from, to), n, 20)).argmax(1, false).toLongArray();
            long[] y = BLOBS.labels(from, to);
            int right = 0;
            for (int i = 0; i < n; i++) {
                right += pred[i] == y[i] ? 1 : 0;
            }
            return right / (double) n;
        }
    }

    @Test
    void aSmallNetworkLearnsSyntheticClassesWell() {
        Dataset<Row> train = BLOBS.frame(spark, 6000, 2);
        TrainerConfig cfg = TrainerConfig.builder().model(SparkTestSupport.mlp(20, 32, 5)).numClasses(5)
                .optimizer(OptimizerSpec.adam(0.01)).batchSize(256).maxEpochs(4).seed(1).validationFraction(0.1)
                .build();
        List<EpochStats> seen = new ArrayList<>();
        TrainingResult r = new DistributedTrainer(cfg).onEpoch(seen::add).fit(train);
        assertEquals(r.history(), seen, "the listener saw every epoch");
        assertTrue(r.localSteps() > 1, "a tiny model gets local steps by default: " + r);
        assertEquals(4, r.history().size());
        assertEquals(6000, r.trainRows() + r.validationRows());
        EpochStats last = r.lastEpoch();
        assertEquals("accuracy", last.metricName());
        assertTrue(last.validationMetric() > 0.9, "validation accuracy " + last);
        assertTrue(last.trainLoss() < r.history().get(0).trainLoss(), r.history().toString());
        assertTrue(last.rowsPerSecond() > 0 && last.seconds() > 0, last.toString());
        assertTrue(last.sparkOverheadShare() >= 0 && last.sparkOverheadShare() < 1, last.toString());
        assertTrue(last.describe().contains("val_accuracy="), last.describe());
        // Rows the trainer never saw (ids past the training range) come from the same classes.
        assertTrue(accuracy(r.model(), 100_000, 102_000) > 0.9, "test accuracy");
        assertTrue(!r.model().isTraining(), "returned in eval mode");
    }

    @Test
    void earlyStoppingKeepsTheBestEpochsParameters() {
        Dataset<Row> train = BLOBS.frame(spark, 200, 2);
        Dataset<Row> validation = BLOBS.frame(spark, 400, 1).withColumn("label",
                functions.expr("cast((label + id % 2) % 5 as double)"));
        TrainerConfig cfg = TrainerConfig.builder().model(SparkTestSupport.mlp(20, 64, 5)).numClasses(5)
                .optimizer(OptimizerSpec.adam(0.05)).batchSize(100).localSteps(1).maxEpochs(30).seed(2)
                .earlyStoppingPatience(2)
                .build();
        TrainingResult r = new DistributedTrainer(cfg).fit(train, validation);
        assertEquals(400, r.validationRows());
        assertTrue(r.stoppedEarly(), "half the validation labels are wrong: validation loss turns up; " + r.history());
        int best = 0;
        for (int i = 1; i < r.history().size(); i++) {
            if (r.history().get(i).validationLoss() < r.history().get(best).validationLoss()) {
                best = i;
            }
        }
        assertEquals(best + 1, r.bestEpoch());
        assertEquals(r.bestEpoch() + 2, r.history().size(), "stopped after two epochs without improvement");
    }

    @Test
    void featuresFromNumericColumnsOrArraysAndShapedInputs() {
        Dataset<Row> base = BLOBS.frame(spark, 1000, 2);
        Dataset<Row> arrays = base.withColumn("arr", functions.udf(
                (org.apache.spark.sql.api.java.UDF1<org.apache.spark.ml.linalg.Vector, float[]>) v -> {
                    float[] f = new float[v.size()];
                    for (int i = 0; i < f.length; i++) {
                        f[i] = (float) v.apply(i);
                    }
                    return f;
                }, org.apache.spark.sql.types.DataTypes.createArrayType(org.apache.spark.sql.types.DataTypes.FloatType))
                .apply(functions.col("features")));
        TrainerConfig.Builder b = TrainerConfig.builder().numClasses(5).optimizer(OptimizerSpec.adam(0.01))
                .batchSize(100).maxEpochs(3).seed(4);
        SerializableSupplier<Module> shaped = () -> new Sequential(new Flatten(), new Linear(20, 16), new ReLU(),
                new Linear(16, 5));
        TrainingResult fromArray = DistributedTrainer.fit(arrays,
                b.model(shaped).featuresCol("arr").inputShape(4, 5).build());
        assertEquals(20, fromArray.numFeatures());
        assertTrue(accuracy(fromArray.model(), 50_000, 51_000) > 0.8, "array features, [B, 4, 5] inputs");

        Dataset<Row> columns = arrays;
        String[] names = new String[20];
        for (int j = 0; j < 20; j++) {
            names[j] = "f" + j;
            columns = columns.withColumn(names[j], functions.col("arr").getItem(j).cast("double"));
        }
        TrainingResult fromColumns = DistributedTrainer.fit(columns,
                b.model(SparkTestSupport.mlp(20, 16, 5)).featureCols(names).inputShape().build());
        assertEquals(20, fromColumns.numFeatures());
        assertTrue(accuracy(fromColumns.model(), 50_000, 51_000) > 0.8, "numeric columns");
    }

    private static Dataset<Row> withBadRows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            rows.add(RowFactory.create(Vectors.dense(i % 2, 1 - i % 2), (double) (i % 2)));
        }
        rows.add(RowFactory.create(null, 1.0));
        rows.add(RowFactory.create(Vectors.dense(Double.NaN, 1), 1.0));
        rows.add(RowFactory.create(Vectors.dense(1, 2, 3), 0.0));
        rows.add(RowFactory.create(Vectors.dense(1, 0), 2.0));
        rows.add(RowFactory.create(Vectors.dense(1, 0), 5.0));
        return spark.createDataFrame(rows, SparkTestSupport.vectorSchema()).repartition(1);
    }

    @Test
    void badRowsFailClearlyOrAreSkippedAndCounted() {
        java.util.function.Supplier<TrainerConfig.Builder> b = () -> TrainerConfig.builder()
                .model(SparkTestSupport.mlp(2, 4, 2)).numClasses(2).batchSize(8).localSteps(1).maxEpochs(1);
        InvalidRowException e = assertThrows(InvalidRowException.class,
                () -> DistributedTrainer.fit(withBadRows(), b.get().build()));
        assertEquals(0, e.partition());
        assertTrue(e.getMessage().contains("partition 0") && e.getMessage().contains("column '"), e.getMessage());

        TrainingResult r = DistributedTrainer.fit(withBadRows(), b.get().handleInvalid("skip").build());
        assertEquals(40, r.trainRows());
        assertEquals(5, r.skippedRows());
        assertEquals(1L, r.skippedByReason().get(InvalidReason.NULL_FEATURES.label()));
        assertEquals(1L, r.skippedByReason().get(InvalidReason.NON_FINITE_FEATURE.label()));
        assertEquals(1L, r.skippedByReason().get(InvalidReason.WRONG_FEATURE_LENGTH.label()));
        assertEquals(2L, r.skippedByReason().get(InvalidReason.LABEL_OUT_OF_RANGE.label()));

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> DistributedTrainer.fit(withBadRows(), b.get().featuresCol("pixels").build()));
        assertTrue(missing.getMessage().contains("'pixels' does not exist") && missing.getMessage().contains("features"),
                missing.getMessage());
        IllegalStateException wrongModel = assertThrows(IllegalStateException.class,
                () -> DistributedTrainer.fit(withBadRows(), b.get().handleInvalid("skip")
                        .model(SparkTestSupport.mlp(2, 4, 3)).build()));
        assertTrue(wrongModel.getMessage().contains("cross-entropy over 2 classes needs [8, 2] logits"),
                wrongModel.getMessage());
    }
}
