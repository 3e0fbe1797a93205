package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.data.ConvertedData;
import io.sparkgrad.spark.data.PartitionData;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

import java.util.Iterator;

/**
 * The executor side of an evaluation: loss and metric sums of the model in eval mode over one
 * partition's rows of one kind (held-out validation rows, or a validation DataFrame's rows), in
 * batches, without a graph.
 */
final class EvalTask implements Function2<Integer, Iterator<ArrowBlock>, Iterator<GradientAggregator>> {
    private static final long serialVersionUID = 1L;
    private static final int BATCH = 1024;

    private final StepTask.Run run;
    private final String datasetId;
    private final int kind;
    private final TreePlan plan;
    private final Broadcast<float[]> parameters;

    /** {@code plan}: the evaluated dataset's own (its partition count may differ from the training data's). */
    EvalTask(StepTask.Run run, String datasetId, int kind, TreePlan plan, Broadcast<float[]> parameters) {
        this.run = run;
        this.datasetId = datasetId;
        this.kind = kind;
        this.plan = plan;
        this.parameters = parameters;
    }

    @Override
    public Iterator<GradientAggregator> call(Integer partition, Iterator<ArrowBlock> blocks) {
        ReplicaPool.configureThreads(run.cfg);
        long t0 = System.nanoTime();
        PartitionData data = ConvertedData.partition(datasetId, run.layout, partition, kind, blocks);
        int leaf = plan.leafOf(partition);
        int n = data.rows();
        if (n == 0) {
            return StepTask.one(GradientAggregator.leaf(leaf, null, 0, 0, 0, 0, System.nanoTime() - t0));
        }
        ReplicaPool.Replica replica = ReplicaPool.take(run.runId, run.cfg, run.parameterCount);
        try (var g = GradMode.noGrad()) {
            replica.layout.load(parameters.value());
            replica.model.eval();
            int[] order = data.identity();
            double loss = 0;
            double weight = 0;
            double metric = 0;
            for (int from = 0; from < n; from += BATCH) {
                int to = Math.min(n, from + BATCH);
                Tensor y = ExecutorDevice.place(data.labels(order, from, to), replica.device);
                Tensor w = ExecutorDevice.place(data.weights(order, from, to), replica.device);
                Tensor out = replica.model.forward(
                        ExecutorDevice.place(data.features(order, from, to, run.cfg.inputShape()), replica.device));
                loss += Losses.sum(run.cfg, out, y, w).item();
                metric += Losses.metricSum(run.cfg, out, y, w);
                weight += data.weightSum(order, from, to);
            }
            return StepTask.one(GradientAggregator.leaf(leaf, null, loss, weight, n, metric, System.nanoTime() - t0));
        } finally {
            replica.model.train();
            ReplicaPool.give(run.runId, replica);
        }
    }
}
