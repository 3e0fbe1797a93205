package io.sparkgrad.spark.ml;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.ml.param.ModuleFactoryParam;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Params without Spark jobs: names, defaults, validators, copies, and the network-factory param. */
class NeuralNetParamsTest {

    /** A network factory that can be saved: public, static, no-argument constructor. */
    public static final class TinyNet implements SerializableSupplier<Module> {
        private static final long serialVersionUID = 1L;

        @Override
        public Module get() {
            return new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
        }
    }

    /** Not a factory at all: loading must refuse to instantiate it. */
    public static final class NotAFactory {
        static boolean constructed;

        public NotAFactory() {
            constructed = true;
        }
    }

    private static final Set<String> SHARED = Set.of("activation", "batchSize", "checkpointDir", "checkpointInterval",
            "device", "earlyStoppingPatience", "featuresCol", "handleInvalid", "hiddenLayers", "labelCol", "learningRate",
            "localSteps", "lrSchedule", "maxEpochs", "moduleFactory", "optimizer", "outerOptimizer", "predictionCol", "seed",
            "stepTimeoutSeconds", "validationFraction", "validationIndicatorCol", "weightCol");

    private static Set<String> names(Param<?>[] params) {
        Set<String> s = new TreeSet<>();
        for (Param<?> p : params) {
            s.add(p.name());
        }
        return s;
    }

    @Test
    void sparkFindsEveryParamOfTheEstimatorsAndModels() {
        Set<String> classifier = new TreeSet<>(SHARED);
        classifier.add("probabilityCol");
        classifier.add("rawPredictionCol");
        assertEquals(classifier, names(new NeuralNetClassifier().params()));
        assertEquals(new TreeSet<>(SHARED), names(new NeuralNetRegressor().params()));
        NeuralNetClassificationModel m = new NeuralNetClassificationModel("m", 4, 3, new byte[0]);
        assertEquals(classifier, names(m.params()));
        NeuralNetRegressionModel r = new NeuralNetRegressionModel("r", 4, new byte[0]);
        assertEquals(new TreeSet<>(SHARED), names(r.params()));
        for (Param<?> p : new NeuralNetClassifier().params()) {
            assertFalse(p.doc().isEmpty(), p.name() + " has documentation");
        }
    }

    @Test
    void defaults() {
        NeuralNetClassifier c = new NeuralNetClassifier();
        assertEquals("features", c.getFeaturesCol());
        assertEquals("label", c.getLabelCol());
        assertEquals("prediction", c.getPredictionCol());
        assertEquals("probability", c.getProbabilityCol());
        assertEquals("rawPrediction", c.getRawPredictionCol());
        assertEquals("", c.getWeightCol());
        assertFalse(c.isDefined(c.weightCol()));
        assertEquals("error", c.getHandleInvalid());
        assertArrayEquals(Defaults.HIDDEN_LAYERS, c.getHiddenLayers());
        assertEquals("relu", c.getActivation());
        assertNull(c.getModuleFactory());
        assertEquals("adam", c.getOptimizer());
        assertEquals("cpu", c.getDevice());
        assertEquals(1e-3, c.getLearningRate());
        assertEquals(Defaults.BATCH_SIZE, c.getBatchSize());
        assertEquals(10, c.getMaxEpochs());
        assertEquals(Defaults.LOCAL_STEPS, c.getLocalSteps());
        assertEquals("averaging", c.getOuterOptimizer());
        assertEquals("constant", c.getLrSchedule());
        assertEquals(0.0, c.getValidationFraction());
        assertEquals("", c.getValidationIndicatorCol());
        assertEquals(0, c.getEarlyStoppingPatience());
        assertEquals("", c.getCheckpointDir());
        assertEquals(0, c.getCheckpointInterval());
        assertEquals(1800.0, c.getStepTimeoutSeconds(), "the trainer's default, 30 minutes");
        assertEquals(NeuralNetClassifier.class.getName().hashCode(), c.getSeed());
        assertEquals(NeuralNetRegressor.class.getName().hashCode(), new NeuralNetRegressor().getSeed());
        // The model declares the same defaults (one setDefault block for all four classes).
        NeuralNetClassificationModel m = new NeuralNetClassificationModel("m", 4, 3, new byte[0]);
        for (Param<?> p : c.params()) {
            if (!p.name().equals("seed")) {
                assertEquals(c.hasDefault(p), m.hasDefault(m.getParam(p.name())), p.name());
            }
        }
    }

    @Test
    void settersSetAndReturnTheEstimator() {
        NeuralNetClassifier c = new NeuralNetClassifier()
                .setFeaturesCol("f").setLabelCol("y").setPredictionCol("p").setProbabilityCol("pr")
                .setRawPredictionCol("raw").setWeightCol("w").setSeed(7).setHandleInvalid("skip")
                .setHiddenLayers(64, 32).setActivation("tanh").setOptimizer("sgd").setLearningRate(0.05)
                .setBatchSize(32).setMaxEpochs(3).setLocalSteps(4).setOuterOptimizer("nesterov").setLrSchedule("cosine")
                .setValidationFraction(0.2).setEarlyStoppingPatience(2).setCheckpointDir("/tmp/ck")
                .setCheckpointInterval(5).setStepTimeoutSeconds(90).setModuleFactory(new TinyNet());
        assertEquals("f", c.getFeaturesCol());
        assertEquals("y", c.getLabelCol());
        assertEquals("p", c.getPredictionCol());
        assertEquals("pr", c.getProbabilityCol());
        assertEquals("raw", c.getRawPredictionCol());
        assertEquals("w", c.getWeightCol());
        assertEquals(7, c.getSeed());
        assertEquals("skip", c.getHandleInvalid());
        assertArrayEquals(new int[] {64, 32}, c.getHiddenLayers());
        assertEquals("tanh", c.getActivation());
        assertEquals("sgd", c.getOptimizer());
        assertEquals(0.05, c.getLearningRate());
        assertEquals(32, c.getBatchSize());
        assertEquals(3, c.getMaxEpochs());
        assertEquals(4, c.getLocalSteps());
        assertEquals("nesterov", c.getOuterOptimizer());
        assertEquals("cosine", c.getLrSchedule());
        assertEquals(0.2, c.getValidationFraction());
        assertEquals(2, c.getEarlyStoppingPatience());
        assertEquals("/tmp/ck", c.getCheckpointDir());
        assertEquals(5, c.getCheckpointInterval());
        assertEquals(90.0, c.getStepTimeoutSeconds());
        assertTrue(c.getModuleFactory() instanceof TinyNet);
        assertEquals(0.05, new NeuralNetRegressor().setLearningRate(0.05).getLearningRate());
    }

    @Test
    void validatorsRejectBadValuesNamingTheParam() {
        NeuralNetClassifier c = new NeuralNetClassifier();
        assertRejects("learningRate", () -> c.setLearningRate(0));
        assertRejects("learningRate", () -> c.setLearningRate(-1));
        assertRejects("batchSize", () -> c.setBatchSize(0));
        assertRejects("maxEpochs", () -> c.setMaxEpochs(0));
        assertRejects("localSteps", () -> c.setLocalSteps(-1));
        assertRejects("lrSchedule", () -> c.setLrSchedule("step"));
        assertRejects("validationFraction", () -> c.setValidationFraction(1.0));
        assertRejects("validationFraction", () -> c.setValidationFraction(-0.1));
        assertRejects("earlyStoppingPatience", () -> c.setEarlyStoppingPatience(-1));
        assertRejects("checkpointInterval", () -> c.setCheckpointInterval(-1));
        assertRejects("stepTimeoutSeconds", () -> c.setStepTimeoutSeconds(-1));
        assertRejects("hiddenLayers", () -> c.setHiddenLayers(64, 0));
        assertRejects("activation", () -> c.setActivation("softplus"));
        assertRejects("optimizer", () -> c.setOptimizer("lbfgs"));
        assertRejects("outerOptimizer", () -> c.setOuterOptimizer("adam"));
        assertRejects("handleInvalid", () -> c.setHandleInvalid("keep"));
        // Nothing was changed by the rejected values.
        assertEquals(1e-3, c.getLearningRate());
        assertEquals("relu", c.getActivation());
        // Accepted edge values.
        c.setHiddenLayers().setValidationFraction(0.0).setOptimizer("AdamW").setHandleInvalid("SKIP").setLocalSteps(0);
        assertArrayEquals(new int[0], c.getHiddenLayers());
    }

    private static void assertRejects(String param, Runnable set) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, set::run);
        assertTrue(e.getMessage().contains(param), e.getMessage());
    }

    @Test
    void copyKeepsUidAndValuesAndAppliesExtra() {
        NeuralNetClassifier c = new NeuralNetClassifier().setMaxEpochs(3).setHiddenLayers(16);
        NeuralNetClassifier copy = c.copy(new ParamMap().put(c.learningRate(), 0.5));
        assertNotSame(c, copy);
        assertEquals(c.uid(), copy.uid());
        assertEquals(3, copy.getMaxEpochs());
        assertArrayEquals(new int[] {16}, copy.getHiddenLayers());
        assertEquals(0.5, copy.getLearningRate());
        assertEquals(1e-3, c.getLearningRate());
        // The uid constructor Spark's readers and defaultCopy use.
        assertEquals("nnc_1", new NeuralNetClassifier("nnc_1").uid());
        assertTrue(new NeuralNetClassifier().uid().startsWith("nnClassifier_"));
        assertTrue(new NeuralNetRegressor().uid().startsWith("nnRegressor_"));
    }

    @Test
    void paramsOfAnotherStageAreRefused() {
        NeuralNetClassifier a = new NeuralNetClassifier();
        NeuralNetClassifier b = new NeuralNetClassifier();
        assertThrows(IllegalArgumentException.class, () -> a.set(b.maxEpochs(), 3));
        assertEquals(a.maxEpochs(), a.maxEpochs()); // equal by parent and name, though built per call
        assertFalse(a.maxEpochs().equals(b.maxEpochs()));
    }

    @Test
    void explainParamsShowsDocsAndValues() {
        String text = new NeuralNetClassifier().setMaxEpochs(4).explainParams();
        assertTrue(text.contains("maxEpochs: the number of passes over the training data (>= 1) (default: 10, current: 4)"),
                text);
        assertTrue(text.contains("hiddenLayers:"), text);
    }

    @Test
    void estimatorSurvivesJavaSerialization() throws Exception {
        NeuralNetClassifier c = new NeuralNetClassifier().setMaxEpochs(4).setModuleFactory(new TinyNet());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            NeuralNetClassifier back = (NeuralNetClassifier) in.readObject();
            assertEquals(c.uid(), back.uid());
            assertEquals(4, back.getMaxEpochs());
            assertTrue(back.getModuleFactory() instanceof TinyNet);
        }
    }

    @Test
    void moduleFactoryParamStoresANamedClassAndRefusesTheRest() {
        NeuralNetClassifier c = new NeuralNetClassifier();
        ModuleFactoryParam p = c.moduleFactory();
        String json = p.jsonEncode(new TinyNet());
        assertEquals("{\"class\":\"" + TinyNet.class.getName() + "\"}", json);
        assertTrue(p.jsonDecode(json) instanceof TinyNet);

        SerializableSupplier<Module> lambda = () -> new Linear(4, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.jsonEncode(lambda));
        assertTrue(e.getMessage().contains("is a lambda") && e.getMessage().contains("public no-argument constructor"),
                e.getMessage());
        SerializableSupplier<Module> anonymous = new SerializableSupplier<>() {
            private static final long serialVersionUID = 1L;

            @Override
            public Module get() {
                return new Linear(4, 3);
            }
        };
        e = assertThrows(IllegalArgumentException.class, () -> p.jsonEncode(anonymous));
        assertTrue(e.getMessage().contains("anonymous"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> p.jsonDecode("{\"class\":\"" + NotAFactory.class.getName() + "\"}"));
        assertTrue(e.getMessage().contains("does not implement") && e.getMessage().contains("refusing"), e.getMessage());
        assertFalse(NotAFactory.constructed, "a class that is no factory is never instantiated");
        e = assertThrows(IllegalArgumentException.class, () -> p.jsonDecode("{\"class\":\"com.example.Missing\"}"));
        assertTrue(e.getMessage().contains("com.example.Missing") && e.getMessage().contains("classpath"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> p.jsonDecode("{\"name\":\"x\"}"));
        assertTrue(e.getMessage().contains("moduleFactory"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> p.jsonDecode("not json"));
    }

    @Test
    void mlpFactoryBuildsTheSameNetworkEveryTime() {
        Mlp mlp = Mlp.of(4, new int[] {8, 6}, 3, "tanh", 11);
        Module a = mlp.get();
        Module b = mlp.get();
        assertEquals(Arrays.asList("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"),
                new java.util.ArrayList<>(a.stateDict().keySet()));
        for (String k : a.stateDict().keySet()) {
            assertArrayEquals(a.stateDict().get(k).toFloatArray(), b.stateDict().get(k).toFloatArray(), k);
        }
        assertSame(io.sparkgrad.nn.Tanh.class, ((Sequential) a).get(1).getClass());
        assertEquals(2, Mlp.of(4, new int[0], 3, "relu", 1).get().stateDict().size());
        assertThrows(IllegalArgumentException.class, () -> Mlp.of(4, new int[0], 3, "swish", 1));
        assertThrows(IllegalArgumentException.class, () -> new Mlp(new int[] {4}, "relu", 1));
    }
}
