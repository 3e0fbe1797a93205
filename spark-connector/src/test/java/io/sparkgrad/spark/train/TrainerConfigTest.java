package io.sparkgrad.spark.train;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.optim.Adam;
import io.sparkgrad.optim.AdamW;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.optim.SGD;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerConfigTest {
    private static TrainerConfig.Builder valid() {
        return TrainerConfig.builder().model(() -> new Linear(4, 3)).numClasses(3);
    }

    private static void rejects(TrainerConfig.Builder b, String mention) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(mention), e.getMessage());
    }

    @Test
    void defaultsAndDerivedLoss() {
        TrainerConfig c = valid().build();
        assertEquals(LossFunction.CROSS_ENTROPY, c.loss());
        assertEquals(128, c.batchSize());
        assertEquals(TrainerConfig.DEFAULT_LOCAL_STEPS, c.localSteps());
        assertEquals(OptimizerSpec.averaging(), c.outerOptimizer());
        assertEquals(HandleInvalid.ERROR, c.handleInvalid());
        assertEquals("features", c.featuresCol());
        assertEquals(LossFunction.MSE, valid().numClasses(0).build().loss());
    }

    @Test
    void everySettingIsChecked() {
        rejects(TrainerConfig.builder().numClasses(2), "model");
        rejects(TrainerConfig.builder().model(() -> new Linear(1, 1)), "numClasses");
        rejects(valid().numClasses(1), "numClasses");
        rejects(valid().batchSize(0), "batchSize");
        rejects(valid().maxEpochs(0), "maxEpochs");
        rejects(valid().localSteps(-1), "localSteps");
        rejects(valid().validationFraction(1), "validationFraction");
        rejects(valid().loss(LossFunction.MSE), "MSE");
        rejects(valid().numClasses(0).loss(LossFunction.CROSS_ENTROPY), "numClasses");
        rejects(valid().inputShape(2, 0), "inputShape");
        rejects(valid().featureCols(), "featureCols");
        rejects(valid().checkpointDir(""), "checkpointDir");
        assertThrows(IllegalArgumentException.class, () -> HandleInvalid.parse("keep"));
        assertEquals(HandleInvalid.SKIP, HandleInvalid.parse("Skip"));
    }

    @Test
    void autoLocalStepsKeepSparksShareSmallAndLeaveBigModelsSynchronous() {
        // Fashion-MNIST's MLP 784-256-128-10 (235,146 parameters), batch 128 on 2 partitions.
        int k = LocalStepsPolicy.choose(235_146, 128, 2, 469);
        assertEquals(73, k);
        double sync = LocalStepsPolicy.syncSeconds(235_146, 2);
        double compute = k * LocalStepsPolicy.stepSeconds(235_146, 128, 2);
        assertTrue(sync / (sync + compute) <= 0.2, "estimated overhead " + sync / (sync + compute));
        assertEquals(1, LocalStepsPolicy.choose(10_000_000, 1024, 2, 1000), "a big model stays synchronous");
        assertEquals(7, LocalStepsPolicy.choose(83, 32, 3, 7), "never more than an epoch's mini-batches");
    }

    @Test
    void learningRateSchedules() {
        TrainerConfig constant = valid().optimizer(OptimizerSpec.sgd(0.1)).maxEpochs(4).build();
        assertEquals(0.1, constant.learningRate(3));
        TrainerConfig cosine = constant.toBuilder().lrSchedule(LrSchedule.COSINE).build();
        assertEquals(0.1, cosine.learningRate(0), 1e-15);
        assertEquals(0.05, cosine.learningRate(2), 1e-15);
        assertEquals(0.1 * (1 + Math.cos(Math.PI * 3 / 4)) / 2, cosine.learningRate(3), 1e-15);
    }

    @Test
    void optimizerSpecsBuildTheEngineOptimizers() {
        Module m = new Linear(2, 2);
        Optimizer sgd = OptimizerSpec.of("sgd", 0.1).withMomentum(0.9).withNesterov(true).create(m.parameters());
        assertInstanceOf(SGD.class, sgd);
        assertEquals(0.9, sgd.paramGroups().get(0).getDouble("momentum"));
        assertInstanceOf(Adam.class, OptimizerSpec.of("ADAM", 1e-3).create(m.parameters()));
        Optimizer adamw = OptimizerSpec.adamw(1e-3).create(m.parameters());
        assertInstanceOf(AdamW.class, adamw);
        assertEquals(0.01, adamw.paramGroups().get(0).getDouble("weight_decay"), "AdamW's default decay");
        assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.adam(1e-3).withMomentum(0.9));
        assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.sgd(0.1).withBetas(0.9, 0.99));
        assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.sgd(-1));
        assertThrows(IllegalArgumentException.class, () -> OptimizerSpec.of("lbfgs", 1));
    }

    @Test
    void theConfigurationTravelsByJavaSerialization() throws Exception {
        TrainerConfig c = valid().optimizer(OptimizerSpec.adamw(3e-4)).inputShape(2, 2).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(c);
        }
        TrainerConfig back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = (TrainerConfig) in.readObject();
        }
        assertEquals(c.toString(), back.toString());
        assertEquals(12 + 3, new ParamLayout(back.newModel()).size(), "the factory still builds the model");
    }

    @Test
    void kryoRegistrationRequiredWithoutOurRegistratorFailsEarly() {
        SparkConf conf = new SparkConf(false).set("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .set("spark.kryo.registrationRequired", "true").set("spark.kryo.registrator", "com.example.Other");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DistributedTrainer.checkSerializer(conf));
        assertTrue(e.getMessage().contains("io.sparkgrad.spark.kryo.SparkgradKryoRegistrator"), e.getMessage());
        DistributedTrainer.checkSerializer(conf.set("spark.kryo.registrator",
                "com.example.Other, io.sparkgrad.spark.kryo.SparkgradKryoRegistrator"));
        DistributedTrainer.checkSerializer(new SparkConf(false));
    }
}
