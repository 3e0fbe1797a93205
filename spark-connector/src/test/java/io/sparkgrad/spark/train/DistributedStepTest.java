package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import io.sparkgrad.nn.Module;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.spark.data.PartitionData;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer against the single-process engine: a distributed step equals the local step over the
 * same rows, for any partitioning; runs are reproducible bit for bit; local steps average as
 * specified.
 */
class DistributedStepTest {
    private static final int N = 210;
    private static final int D = 6;
    private static final int C = 3;
    private static final SparkTestSupport.Blobs BLOBS = new SparkTestSupport.Blobs(D, C, 1.5, 11);
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("DistributedStepTest");
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    private static TrainerConfig.Builder base(OptimizerSpec opt) {
        return TrainerConfig.builder().model(SparkTestSupport.mlp(D, 8, C)).numClasses(C).optimizer(opt).seed(5)
                .localSteps(1);
    }

    private static float[] flat(Module m) {
        return new ParamLayout(m).flatten();
    }

    private static Module fresh(TrainerConfig cfg) {
        Tensor.manualSeed(cfg.seed());
        return cfg.newModel();
    }

    /** One local optimizer step on the rows {@code ids} (mean loss, weighted by {@code w} when given). */
    private static void localStep(TrainerConfig cfg, Module m, Optimizer opt, long[] ids, float[] w) {
        float[] x = new float[ids.length * D];
        long[] y = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(BLOBS.featureMatrix(ids[i], ids[i] + 1), 0, x, i * D, D);
            y[i] = BLOBS.label(ids[i]);
        }
        opt.zeroGrad();
        Tensor out = m.forward(Tensor.wrap(x, ids.length, D));
        Tensor loss;
        if (w == null) {
            loss = F.crossEntropy(out, Tensor.of(y, ids.length));
        } else {
            double total = 0;
            for (float v : w) {
                total += v;
            }
            loss = F.crossEntropy(out, Tensor.of(y, ids.length), Reduction.NONE).mul(Tensor.wrap(w, ids.length))
                    .sum().div(total);
        }
        loss.backward();
        opt.step();
    }

    private static long[] range(long from, long to) {
        long[] ids = new long[(int) (to - from)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = from + i;
        }
        return ids;
    }

    /** The ids of mini-batch {@code s} of epoch {@code epoch}, as the trainer picks them from each partition. */
    private static long[] batchIds(int partitions, long seed, int epoch, int s, int batchesPerEpoch) {
        List<Long> ids = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            long first = (long) p * N / partitions;
            int n = (int) ((long) (p + 1) * N / partitions - first);
            int[] order = PartitionData.shuffledOrder(n, seed, epoch, p);
            for (int i = (int) ((long) s * n / batchesPerEpoch); i < (int) ((long) (s + 1) * n / batchesPerEpoch); i++) {
                ids.add(first + order[i]);
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tol, what + ": largest difference " + worst + " > " + tol);
    }

    private static float[] fit(Dataset<Row> df, TrainerConfig cfg) {
        return flat(DistributedTrainer.fit(df, cfg).model());
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {1, 2, 3, 7})
    void fullBatchStepsEqualTheSingleProcessSteps(int partitions) {
        Dataset<Row> df = BLOBS.frame(spark, N, partitions);
        for (OptimizerSpec opt : List.of(OptimizerSpec.sgd(0.2).withMomentum(0.9), OptimizerSpec.adam(0.01))) {
            TrainerConfig cfg = base(opt).batchSize(N).maxEpochs(2).build();
            TrainingResult r = DistributedTrainer.fit(df, cfg);
            assertEquals(2, r.steps());
            Module ref = fresh(cfg);
            Optimizer o = opt.create(ref.parameters());
            for (int step = 0; step < 2; step++) {
                localStep(cfg, ref, o, range(0, N), null);
            }
            assertClose(flat(ref), flat(r.model()), 2e-5, opt + " on " + partitions + " partitions");
            double loss = r.history().get(0).trainLoss();
            Module init = fresh(cfg);
            double expectedLoss = F.crossEntropy(init.forward(Tensor.wrap(BLOBS.featureMatrix(0, N), N, D)),
                    Tensor.of(BLOBS.labels(0, N), N)).item();
            assertEquals(expectedLoss, loss, 1e-5, "epoch 1's loss is the initial model's mean loss");
        }
    }

    @ParameterizedTest(name = "{0} partitions")
    @ValueSource(ints = {2, 3, 7})
    void miniBatchStepsTakeEachPartitionsShareOfTheShuffledRows(int partitions) {
        Dataset<Row> df = BLOBS.frame(spark, N, partitions);
        int batch = 70;
        TrainerConfig cfg = base(OptimizerSpec.sgd(0.3).withMomentum(0.5)).batchSize(batch).maxEpochs(2).build();
        float[] distributed = fit(df, cfg);
        Module ref = fresh(cfg);
        Optimizer o = cfg.optimizer().create(ref.parameters());
        int perEpoch = N / batch;
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int s = 0; s < perEpoch; s++) {
                localStep(cfg, ref, o, batchIds(partitions, cfg.seed(), epoch, s, perEpoch), null);
            }
        }
        assertClose(flat(ref), distributed, 2e-5, partitions + " partitions, 6 mini-batch steps");
    }

    @Test
    void rowWeightsWeightTheMeanLoss() {
        Dataset<Row> df = BLOBS.frame(spark, N, 3).withColumn("w", functions.expr("0.5 + id % 3"));
        TrainerConfig cfg = base(OptimizerSpec.sgd(0.5)).batchSize(N).maxEpochs(2).weightCol("w").build();
        float[] distributed = fit(df, cfg);
        Module ref = fresh(cfg);
        Optimizer o = cfg.optimizer().create(ref.parameters());
        float[] w = new float[N];
        for (int i = 0; i < N; i++) {
            w[i] = 0.5f + i % 3;
        }
        localStep(cfg, ref, o, range(0, N), w);
        localStep(cfg, ref, o, range(0, N), w);
        assertClose(flat(ref), distributed, 2e-5, "weighted");
    }

    @Test
    void regressionWithMseEqualsTheSingleProcessStep() {
        double[] coef = {0.5, -1, 2, 0, 0.25, -0.75};
        SparkTestSupport.Blobs blobs = BLOBS;
        UDF1<Long, Double> target = id -> {
            double[] x = blobs.features(id);
            double t = 0;
            for (int j = 0; j < x.length; j++) {
                t += coef[j] * x[j];
            }
            return t;
        };
        Dataset<Row> df = BLOBS.frame(spark, N, 2)
                .withColumn("target", functions.udf(target, DataTypes.DoubleType).apply(functions.col("id")));
        TrainerConfig cfg = TrainerConfig.builder().model(SparkTestSupport.mlp(D, 8, 1)).numClasses(0).labelCol("target")
                .optimizer(OptimizerSpec.sgd(0.01)).batchSize(N).maxEpochs(2).seed(3).localSteps(1).build();
        float[] distributed = fit(df, cfg);
        Module ref = fresh(cfg);
        Optimizer o = cfg.optimizer().create(ref.parameters());
        float[] t = new float[N];
        for (int i = 0; i < N; i++) {
            try {
                t[i] = (float) (double) target.call((long) i);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }
        Tensor x = Tensor.wrap(BLOBS.featureMatrix(0, N), N, D);
        for (int step = 0; step < 2; step++) {
            o.zeroGrad();
            F.mseLoss(ref.forward(x).reshape(N), Tensor.wrap(t, N)).backward();
            o.step();
        }
        assertClose(flat(ref), distributed, 2e-5, "MSE");
    }

    @Test
    void runsWithTheSameSeedAreBitIdentical() {
        Dataset<Row> df = BLOBS.frame(spark, N, 3);
        TrainerConfig cfg = base(OptimizerSpec.adam(0.01)).batchSize(70).maxEpochs(2).build();
        float[] a = fit(df, cfg);
        float[] b = fit(df, cfg);
        assertArrayEquals(a, b, "same seed, same partitioning");
        System.setProperty("sparkgrad.decodedCacheBytes", "1");
        try {
            assertArrayEquals(a, fit(df, cfg), "decoding the cached Arrow chunks again every step changes nothing");
        } finally {
            System.clearProperty("sparkgrad.decodedCacheBytes");
        }
        float[] other = fit(df, cfg.toBuilder().seed(6).build());
        assertFalse(Arrays.equals(a, other), "another seed starts elsewhere and shuffles otherwise");

        Dataset<Row> seven = BLOBS.frame(spark, N, 7);
        TrainerConfig tree = cfg.toBuilder().treeDepth(2).finalAggregateOnExecutor(true).build();
        float[] t1 = fit(seven, tree);
        float[] t2 = fit(seven, tree);
        assertArrayEquals(t1, t2, "a tree of depth 2 with the final merge on an executor");
        assertClose(fit(seven, cfg), t1, 1e-4, "depth 1 and depth 2 sum the same gradients");
    }

    @Test
    void oneLocalStepWithAveragingIsSynchronousSgd() {
        Dataset<Row> df = BLOBS.frame(spark, N, 2);
        TrainerConfig sync = base(OptimizerSpec.sgd(0.3)).batchSize(35).maxEpochs(1).build();
        TrainerConfig local = sync.toBuilder().localSteps(1).outerOptimizer(OptimizerSpec.averaging()).build();
        assertClose(fit(df, sync), fit(df, local), 1e-6, "K = 1");
        // With K > 1 the inner SGD runs on the replicas and the driver's optimizer is the outer one.
        TrainerConfig k1 = sync.toBuilder().localSteps(2).build();
        assertFalse(Arrays.equals(fit(df, sync), fit(df, k1)), "K = 2 differs from synchronous steps");
    }

    @Test
    void localStepsAverageTheReplicasParameters() {
        int partitions = 2;
        Dataset<Row> df = BLOBS.frame(spark, N, partitions);
        int batch = 70;
        int perEpoch = N / batch;
        TrainerConfig cfg = base(OptimizerSpec.sgd(0.2)).batchSize(batch).localSteps(perEpoch).maxEpochs(1).build();
        float[] distributed = fit(df, cfg);
        // By hand: each partition trains its own copy for three mini-batch shares; the average, weighted by rows, wins.
        float[] start = flat(fresh(cfg));
        double[] sum = new double[start.length];
        for (int p = 0; p < partitions; p++) {
            Module replica = fresh(cfg);
            Optimizer o = cfg.optimizer().create(replica.parameters());
            long first = (long) p * N / partitions;
            int n = (int) ((long) (p + 1) * N / partitions - first);
            int[] order = PartitionData.shuffledOrder(n, cfg.seed(), 0, p);
            for (int s = 0; s < perEpoch; s++) {
                int from = s * n / perEpoch;
                int to = (s + 1) * n / perEpoch;
                long[] ids = new long[to - from];
                for (int i = from; i < to; i++) {
                    ids[i - from] = first + order[i];
                }
                localStep(cfg, replica, o, ids, null);
            }
            float[] theta = flat(replica);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += n * (double) theta[i];
            }
        }
        float[] average = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            average[i] = (float) (sum[i] / N);
        }
        assertClose(average, distributed, 2e-5, "model averaging");
        assertFalse(Arrays.equals(start, distributed), "it moved");
    }

    @Test
    void localStepsTrainWithEitherOuterOptimizer() {
        Dataset<Row> df = BLOBS.frame(spark, N * 4, 2);
        for (OptimizerSpec outer : List.of(OptimizerSpec.averaging(), OptimizerSpec.nesterovOuter())) {
            TrainerConfig cfg = base(OptimizerSpec.sgd(0.1).withMomentum(0.5)).batchSize(32).localSteps(8)
                    .outerOptimizer(outer).maxEpochs(4).validationFraction(0.2).build();
            TrainingResult r = DistributedTrainer.fit(df, cfg);
            List<EpochStats> h = r.history();
            assertTrue(h.get(3).trainLoss() < 0.7 * h.get(0).trainLoss(), outer + ": loss goes down " + h);
            assertTrue(h.get(3).validationMetric() > 0.7, outer + ": validation accuracy " + h.get(3));
        }
    }
}
