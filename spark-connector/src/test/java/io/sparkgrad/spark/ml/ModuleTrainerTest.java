package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.train.OptimizerSpec;
import io.sparkgrad.spark.train.TrainerConfig;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The lower-level API: any module and optimizer through {@link ModuleTrainer}, on real {@code local[2]}. */
class ModuleTrainerTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTests.session("ModuleTrainerTest", false);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    @Test
    void anyModuleTrainsTransformsSavesAndJoinsAPipeline(@TempDir Path dir) throws IOException {
        Dataset<Row> train = SparkTests.blobs(600, 3, 4, 1, 2);
        Dataset<Row> test = SparkTests.blobs(300, 3, 4, 2, 2);
        TrainedModule trained = ModuleTrainer.fit(train, test, TrainerConfig.builder()
                .model(() -> new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3)))
                .numClasses(3)
                .optimizer(OptimizerSpec.sgd(0.1).withMomentum(0.9))
                .batchSize(50).maxEpochs(3).seed(7).localSteps(2)
                .build());
        assertEquals(4, trained.numFeatures());
        assertEquals(3, trained.numOutputs());
        assertEquals(3, trained.history().size());
        assertTrue(trained.history().get(2).validationMetric() > 0.9, trained.summary().toString());
        assertEquals(300, trained.summary().validationRows());

        // The network's outputs, computed on the executors, are the engine's own.
        Module net = trained.network();
        List<Row> rows = trained.transform(test, "logits").collectAsList();
        assertEquals(300, rows.size());
        for (Row r : rows.subList(0, 20)) {
            Vector x = r.getAs("features");
            float[] expected = net.apply(Tensor.of(toFloats(x.toArray()), 1, 4)).toFloatArray();
            Vector logits = r.getAs("logits");
            for (int k = 0; k < 3; k++) {
                assertEquals(expected[k], logits.apply(k), 1e-5);
            }
        }

        // A safetensors file with the state dict's names and values.
        String file = dir.resolve("net.safetensors").toString();
        trained.save(file);
        Map<String, Tensor> saved = SafeTensors.load(Path.of(file)).tensors();
        Map<String, Tensor> state = net.stateDict();
        assertEquals(state.keySet(), saved.keySet());
        for (String k : state.keySet()) {
            assertArrayEquals(state.get(k).toFloatArray(), saved.get(k).toFloatArray(), k);
        }

        // As a Spark ML model it scores inside a pipeline.
        NeuralNetClassificationModel model = trained.toClassificationModel();
        PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {model}).fit(train);
        double accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy")
                .evaluate(pipeline.transform(test));
        assertTrue(accuracy > 0.9, "accuracy " + accuracy);
        assertEquals(trained.summary(), model.summary());
        IllegalStateException e = assertThrows(IllegalStateException.class, trained::toRegressionModel);
        assertTrue(e.getMessage().contains("NeuralNetRegressionModel"), e.getMessage());
    }

    @Test
    void regressionWithMse() {
        TrainedModule trained = ModuleTrainer.fit(SparkTests.linear(400, 3, 2), TrainerConfig.builder()
                .model(() -> new Linear(3, 1))
                .numClasses(0)
                .optimizer(OptimizerSpec.adam(0.05))
                .batchSize(40).maxEpochs(8).seed(1)
                .build());
        float[] w = trained.network().stateDict().get("weight").toFloatArray();
        assertArrayEquals(new float[] {2f, -1f, 0.5f}, w, 0.1f);
        NeuralNetRegressionModel model = trained.toRegressionModel();
        assertEquals(1, model.numOutputs());
        assertEquals(400, model.transform(SparkTests.linear(400, 4, 2)).count());
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
