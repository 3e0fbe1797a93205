package io.sparkgrad.spark.data;

import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One partition's training (or validation) rows, decoded once from the cached Arrow chunks into
 * heap arrays that engine tensors read directly: features row-major {@code [rows, numFeatures]},
 * class indices or regression targets, optional weights. Immutable apart from a memo of the last
 * epoch's shuffled order.
 */
public final class PartitionData {
    private final int rows;
    private final int numFeatures;
    private final float[] features;
    private final long[] classes;
    private final float[] targets;
    private final float[] weights;

    private long orderKey = Long.MIN_VALUE;
    private int[] order;

    PartitionData(ArrowCodec.Chunk c, int numFeatures) {
        this.rows = c.rows();
        this.numFeatures = numFeatures;
        this.features = c.features();
        this.classes = c.classes();
        this.targets = c.targets();
        this.weights = c.weights();
    }

    /** Reads the chunks of {@code kind} among a partition's cached blocks, in order. */
    public static PartitionData decode(Iterator<ArrowBlock> blocks, int kind, DataLayout layout) {
        List<ArrowCodec.Chunk> parts = new ArrayList<>();
        int total = 0;
        while (blocks.hasNext()) {
            ArrowBlock b = blocks.next();
            if (b.kind() == kind) {
                ArrowCodec.Chunk c = ArrowCodec.decode(b.ipc(), layout.numFeatures(), layout.isClassification(),
                        layout.hasWeights());
                if (c.rows() != b.rows()) {
                    throw new IllegalStateException("cached chunk of partition " + b.partition() + " decodes to "
                            + c.rows() + " rows, but was written with " + b.rows());
                }
                parts.add(c);
                total = Math.addExact(total, c.rows());
            }
        }
        ArrowCodec.Chunk all = parts.size() == 1 ? parts.get(0)
                : ArrowCodec.concat(parts, total, layout.numFeatures(), layout.isClassification(), layout.hasWeights());
        return new PartitionData(all, layout.numFeatures());
    }

    public int rows() {
        return rows;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public boolean hasWeights() {
        return weights != null;
    }

    /** Heap bytes held, for the executor cache's budget. */
    public long bytes() {
        return 4L * features.length + (classes != null ? 8L * classes.length : 4L * targets.length)
                + (weights != null ? 4L * weights.length : 0) + 64;
    }

    /**
     * The rows of this partition in epoch {@code epoch}'s order ({@link #shuffledOrder}), memoized
     * for the epoch.
     */
    public synchronized int[] order(long seed, int epoch, int partition) {
        long key = orderSeed(seed, epoch, partition);
        if (order == null || orderKey != key) {
            order = shuffledOrder(rows, seed, epoch, partition);
            orderKey = key;
        }
        return order;
    }

    /**
     * A permutation of {@code 0..rows-1}: a Fisher–Yates shuffle seeded by the seed, the epoch and
     * the partition alone, so every run and every retried task sees the same order.
     */
    public static int[] shuffledOrder(int rows, long seed, int epoch, int partition) {
        int[] o = new int[rows];
        for (int i = 0; i < rows; i++) {
            o[i] = i;
        }
        SplittableRandom r = new SplittableRandom(orderSeed(seed, epoch, partition));
        for (int i = rows - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }

    private static long orderSeed(long seed, int epoch, int partition) {
        return mix(mix(seed) ^ epoch * 0x9E3779B97F4A7C15L ^ (long) partition * 0xC2B2AE3D27D4EB4FL);
    }

    /** SplitMix64's finalizer: a bijection of 64-bit values that scatters nearby inputs. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The features of rows {@code idx[from..to)} as a float32 tensor {@code [n, shape...]} (or {@code [n, numFeatures]}). */
    public Tensor features(int[] idx, int from, int to, int[] exampleShape) {
        int n = to - from;
        float[] x = new float[n * numFeatures];
        for (int i = 0; i < n; i++) {
            System.arraycopy(features, idx[from + i] * numFeatures, x, i * numFeatures, numFeatures);
        }
        int[] shape;
        if (exampleShape == null) {
            shape = new int[] {n, numFeatures};
        } else {
            shape = new int[exampleShape.length + 1];
            shape[0] = n;
            System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
        }
        return Tensor.wrap(x, shape);
    }

    /** Class indices (int64 {@code [n]}) or regression targets (float32 {@code [n]}) of the rows. */
    public Tensor labels(int[] idx, int from, int to) {
        int n = to - from;
        if (classes != null) {
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                y[i] = classes[idx[from + i]];
            }
            return Tensor.of(y, n);
        }
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = targets[idx[from + i]];
        }
        return Tensor.wrap(y, n);
    }

    /** Row weights (float32 {@code [n]}), or null without a weight column. */
    public Tensor weights(int[] idx, int from, int to) {
        if (weights == null) {
            return null;
        }
        int n = to - from;
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = weights[idx[from + i]];
        }
        return Tensor.wrap(w, n);
    }

    /** The sum of the rows' weights (their count without weights), in double, in index order. */
    public double weightSum(int[] idx, int from, int to) {
        if (weights == null) {
            return to - from;
        }
        double s = 0;
        for (int i = from; i < to; i++) {
            s += weights[idx[i]];
        }
        return s;
    }

    /** Identity order {@code 0..rows-1}, for evaluation. */
    public int[] identity() {
        int[] o = new int[rows];
        for (int i = 0; i < rows; i++) {
            o[i] = i;
        }
        return o;
    }

    /** Row {@code i}'s class index (classification only). */
    public long classOf(int i) {
        return classes[i];
    }
}
