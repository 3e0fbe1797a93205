package io.sparkgrad.spark.ml;

import io.sparkgrad.backend.opencl.ClPlatforms;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The estimator with {@code device=opencl}: every executor trains its replica on an OpenCL device
 * (PoCL's CPU driver in CI) and the run matches the same run on the CPU to float tolerance.
 */
class NeuralNetOpenClTest {
    private static SparkSession spark;
    private static Dataset<Row> train;
    private static Dataset<Row> test;

    @BeforeAll
    static void start() {
        assumeTrue(ClPlatforms.available(), () -> "skipped: no OpenCL device here (" + ClPlatforms.unavailableReason()
                + "); install pocl-opencl-icd ocl-icd-libopencl1 to run it");
        spark = SparkTests.session("NeuralNetOpenClTest", false);
        train = SparkTests.blobs(600, 3, 4, 1, 2).cache();
        test = SparkTests.blobs(300, 3, 4, 2, 2).cache();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static NeuralNetClassifier quick(String device) {
        return new NeuralNetClassifier().setHiddenLayers(16).setBatchSize(32).setMaxEpochs(3).setLearningRate(0.01)
                .setLocalSteps(1).setSeed(3).setDevice(device);
    }

    @Test
    void trainingOnOpenClMatchesTheCpu() {
        NeuralNetClassificationModel onCl = quick("opencl").fit(train);
        NeuralNetClassificationModel onCpu = quick("cpu").fit(train);
        double[] lossCl = onCl.summary().objectiveHistory();
        double[] lossCpu = onCpu.summary().objectiveHistory();
        assertEquals(lossCpu.length, lossCl.length);
        for (int e = 0; e < lossCpu.length; e++) {
            assertEquals(lossCpu[e], lossCl[e], 1e-4 * Math.abs(lossCpu[e]) + 1e-5,
                    "epoch " + e + " loss: cpu " + Arrays.toString(lossCpu) + ", opencl " + Arrays.toString(lossCl));
        }
        double acc = new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(onCl.transform(test));
        assertTrue(acc > 0.9, "accuracy of the OpenCL-trained model: " + acc);
        assertEquals("opencl", onCl.getDevice());
    }

    /**
     * The model scores where its device param says: the same CPU-trained model transformed with
     * device=opencl gives the CPU's outputs to float tolerance, and a device the executor lacks
     * fails the transform naming it (so the setting is read there, not ignored).
     */
    @Test
    void transformScoresOnTheModelsDevice() {
        NeuralNetClassificationModel model = quick("cpu").fit(train);
        List<Row> cpu = model.transform(test).select("rawPrediction", "probability", "prediction").collectAsList();
        NeuralNetClassificationModel onCl = model.copy(ParamMap.empty()).setDevice("opencl");
        assertEquals("opencl", onCl.getDevice());
        List<Row> cl = onCl.transform(test).select("rawPrediction", "probability", "prediction").collectAsList();
        assertEquals(cpu.size(), cl.size());
        for (int i = 0; i < cpu.size(); i++) {
            for (int c = 0; c < 2; c++) {
                double[] e = ((Vector) cpu.get(i).get(c)).toArray();
                double[] a = ((Vector) cl.get(i).get(c)).toArray();
                assertEquals(e.length, a.length);
                for (int k = 0; k < e.length; k++) {
                    assertEquals(e[k], a[k], 1e-5 * Math.abs(e[k]) + 1e-6, "row " + i + " column " + c + " output " + k);
                }
            }
            assertEquals(cpu.get(i).getDouble(2), cl.get(i).getDouble(2), "row " + i + " prediction");
        }
        String absent = "opencl:" + ClPlatforms.count();
        Exception e = assertThrows(Exception.class,
                () -> model.copy(ParamMap.empty()).setDevice(absent).transform(test).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains(absent), e.getMessage());
    }

    @Test
    void anUnknownDeviceIsRefusedWhenSet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> quick("gpu"));
        assertTrue(e.getMessage().contains("device"), e.getMessage());
    }
}
