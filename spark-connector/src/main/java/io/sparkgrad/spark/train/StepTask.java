package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.data.ConvertedData;
import io.sparkgrad.spark.data.DataLayout;
import io.sparkgrad.spark.data.PartitionData;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

import java.util.Collections;
import java.util.Iterator;

/**
 * The executor side of one step, run once per partition: its share of the step's mini-batch (or
 * of K consecutive mini-batches) through a replica of the model, returned as one
 * {@link GradientAggregator} leaf for {@code treeAggregate} to sum.
 *
 * <p>Mini-batch {@code s} of an epoch takes, from partition {@code p} with {@code n} rows, the rows
 * at positions {@code [⌊s·n/S⌋, ⌊(s+1)·n/S⌋)} of the epoch's shuffled order, {@code S} being the
 * mini-batches per epoch: every row once per epoch, every partition in proportion to its size.
 */
final class StepTask implements Function2<Integer, Iterator<ArrowBlock>, Iterator<GradientAggregator>> {
    private static final long serialVersionUID = 1L;

    /** What a task needs to know about the run, fixed for the whole run. */
    static final class Run implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        final String runId;
        final String datasetId;
        final DataLayout layout;
        final TrainerConfig cfg;
        final TreePlan plan;
        final int parameterCount;
        final int batchesPerEpoch;
        /** K, as configured or chosen. */
        final int localSteps;

        Run(String runId, String datasetId, DataLayout layout, TrainerConfig cfg, TreePlan plan, int parameterCount,
                int batchesPerEpoch, int localSteps) {
            this.runId = runId;
            this.datasetId = datasetId;
            this.layout = layout;
            this.cfg = cfg;
            this.plan = plan;
            this.parameterCount = parameterCount;
            this.batchesPerEpoch = batchesPerEpoch;
            this.localSteps = localSteps;
        }
    }

    private final Run run;
    private final Broadcast<float[]> parameters;
    private final int epoch;
    private final int firstBatch;
    private final int batches;
    private final double innerLr;

    /**
     * @param epoch      the epoch (from 0), which with the seed fixes the row order
     * @param firstBatch the first mini-batch of the epoch this step covers
     * @param batches    1 for a synchronous step, up to K with local steps
     * @param innerLr    the epoch's learning rate for the replicas' inner optimizers (local steps)
     */
    StepTask(Run run, Broadcast<float[]> parameters, int epoch, int firstBatch, int batches, double innerLr) {
        this.run = run;
        this.parameters = parameters;
        this.epoch = epoch;
        this.firstBatch = firstBatch;
        this.batches = batches;
        this.innerLr = innerLr;
    }

    @Override
    public Iterator<GradientAggregator> call(Integer partition, Iterator<ArrowBlock> blocks) {
        ReplicaPool.configureThreads(run.cfg);
        long t0 = System.nanoTime();
        PartitionData data = ConvertedData.partition(run.datasetId, run.layout, partition, ArrowBlock.TRAIN, blocks);
        int leaf = run.plan.leafOf(partition);
        int n = data.rows();
        int S = run.batchesPerEpoch;
        int from = (int) ((long) firstBatch * n / S);
        int to = (int) ((long) Math.min(S, firstBatch + batches) * n / S);
        if (from == to) {
            return one(GradientAggregator.leaf(leaf, null, 0, 0, 0, 0, System.nanoTime() - t0));
        }
        ReplicaPool.Replica replica = ReplicaPool.take(run.runId, run.cfg, run.parameterCount);
        try {
            float[] start = parameters.value();
            replica.layout.load(start);
            replica.model.train();
            int[] order = data.order(run.cfg.seed(), epoch, partition);
            GradientAggregator leafResult = run.localSteps == 1
                    ? synchronous(replica, data, order, from, to, leaf, t0)
                    : local(replica, data, order, start, leaf, t0);
            return one(leafResult);
        } finally {
            ReplicaPool.give(run.runId, replica);
        }
    }

    /** One mini-batch share: the gradient of the summed loss, accumulated into the replica's leaves. */
    private GradientAggregator synchronous(ReplicaPool.Replica r, PartitionData data, int[] order, int from, int to,
            int leaf, long t0) {
        zeroGrad(r);
        Tensor loss = batchLoss(r, data, order, from, to);
        loss.backward();
        float[] grad = r.layout.gradients();
        return GradientAggregator.leaf(leaf, grad, loss.item(), data.weightSum(order, from, to), to - from, 0,
                System.nanoTime() - t0);
    }

    /**
     * K mini-batch shares with a fresh inner optimizer on the replica; the result is the
     * weight-scaled parameter change {@code W_p · (θ_start − θ_p)}, which the driver divides by
     * {@code Σ W_p} and hands to the outer optimizer as its gradient.
     */
    private GradientAggregator local(ReplicaPool.Replica r, PartitionData data, int[] order, float[] start, int leaf,
            long t0) {
        Optimizer inner = run.cfg.optimizer().withLr(innerLr).create(r.layout.params());
        int n = data.rows();
        int S = run.batchesPerEpoch;
        double lossSum = 0;
        double weightSum = 0;
        long rows = 0;
        for (int s = firstBatch; s < Math.min(S, firstBatch + batches); s++) {
            int from = (int) ((long) s * n / S);
            int to = (int) ((long) (s + 1) * n / S);
            double w = data.weightSum(order, from, to);
            if (from == to || w == 0) {
                continue;
            }
            inner.zeroGrad();
            Tensor loss = batchLoss(r, data, order, from, to);
            loss.div(w).backward();
            inner.step();
            lossSum += loss.item();
            weightSum += w;
            rows += to - from;
        }
        if (rows == 0) {
            return GradientAggregator.leaf(leaf, null, 0, 0, 0, 0, System.nanoTime() - t0);
        }
        float[] now = r.layout.flatten();
        float[] change = new float[now.length];
        for (int i = 0; i < now.length; i++) {
            change[i] = (float) (((double) start[i] - now[i]) * weightSum);
        }
        return GradientAggregator.leaf(leaf, change, lossSum, weightSum, rows, 0, System.nanoTime() - t0);
    }

    private Tensor batchLoss(ReplicaPool.Replica r, PartitionData data, int[] order, int from, int to) {
        Tensor x = ExecutorDevice.place(data.features(order, from, to, run.cfg.inputShape()), r.device);
        Tensor y = ExecutorDevice.place(data.labels(order, from, to), r.device);
        Tensor w = ExecutorDevice.place(data.weights(order, from, to), r.device);
        return Losses.sum(run.cfg, r.model.forward(x), y, w);
    }

    private static void zeroGrad(ReplicaPool.Replica r) {
        try (var g = GradMode.noGrad()) {
            r.model.zeroGrad();
        }
    }

    static Iterator<GradientAggregator> one(GradientAggregator a) {
        return Collections.singletonList(a).iterator();
    }
}
