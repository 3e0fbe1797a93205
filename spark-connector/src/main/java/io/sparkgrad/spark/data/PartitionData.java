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
 *
 * <p>The rows stay in the chunks they were cached in (each holds {@code chunkRows} rows but the
 * last, fewer) instead of being copied end to end into one array: a copy would need the heap twice
 * over while it is made, and on an executor with little memory a partition is already the largest
 * thing a task holds. Row {@code r} is row {@code r % chunkRows} of chunk {@code r / chunkRows}.
 */
public final class PartitionData {
    private final int rows;
    private final int numFeatures;
    private final int chunkRows;
    private final ArrowCodec.Chunk[] chunks;
    private final boolean classification;
    private final boolean weighted;

    private long orderKey = Long.MIN_VALUE;
    private int[] order;

    PartitionData(ArrowCodec.Chunk c, int numFeatures) {
        this(List.of(c), numFeatures, c.classes() != null, c.weights() != null);
    }

    private PartitionData(List<ArrowCodec.Chunk> chunks, int numFeatures, boolean classification, boolean weighted) {
        this.numFeatures = numFeatures;
        this.classification = classification;
        this.weighted = weighted;
        this.chunks = chunks.toArray(new ArrowCodec.Chunk[0]);
        this.chunkRows = chunks.isEmpty() ? 1 : Math.max(1, chunks.get(0).rows());
        int n = 0;
        for (int i = 0; i < this.chunks.length; i++) {
            int r = this.chunks[i].rows();
            if (r > chunkRows || (r < chunkRows && i < this.chunks.length - 1)) {
                throw new IllegalStateException("chunk " + i + " of a partition holds " + r + " rows; every chunk but the "
                        + "last must hold " + chunkRows + " like the first, and the last at most that");
            }
            n = Math.addExact(n, r);
        }
        this.rows = n;
    }

    /** Reads the chunks of {@code kind} among a partition's cached blocks, in order. */
    public static PartitionData decode(Iterator<ArrowBlock> blocks, int kind, DataLayout layout) {
        List<ArrowCodec.Chunk> parts = new ArrayList<>();
        while (blocks.hasNext()) {
            ArrowBlock b = blocks.next();
            if (b.kind() == kind) {
                ArrowCodec.Chunk c = ArrowCodec.decode(b.ipc(), layout.numFeatures(), layout.isClassification(),
                        layout.hasWeights());
                if (c.rows() != b.rows()) {
                    throw new IllegalStateException("cached chunk of partition " + b.partition() + " decodes to "
                            + c.rows() + " rows, but was written with " + b.rows());
                }
                if (c.rows() > 0) {
                    parts.add(c);
                }
            }
        }
        return new PartitionData(parts, layout.numFeatures(), layout.isClassification(), layout.hasWeights());
    }

    public int rows() {
        return rows;
    }

    public int numFeatures() {
        return numFeatures;
    }

    public boolean hasWeights() {
        return weighted;
    }

    /** Heap bytes held, for the executor cache's budget. */
    public long bytes() {
        long b = 64;
        for (ArrowCodec.Chunk c : chunks) {
            b += 4L * c.features().length + (c.classes() != null ? 8L * c.classes().length : 4L * c.targets().length)
                    + (c.weights() != null ? 4L * c.weights().length : 0) + 64;
        }
        return b;
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
        if ((long) n * numFeatures > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("a batch of " + n + " rows × " + numFeatures + " features is over 2^31 "
                    + "values, more than one Java array holds; use a smaller batch size");
        }
        float[] x = new float[n * numFeatures];
        for (int i = 0; i < n; i++) {
            int r = idx[from + i];
            System.arraycopy(chunks[r / chunkRows].features(), (r % chunkRows) * numFeatures, x, i * numFeatures,
                    numFeatures);
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
        if (classification) {
            long[] y = new long[n];
            for (int i = 0; i < n; i++) {
                y[i] = classOf(idx[from + i]);
            }
            return Tensor.of(y, n);
        }
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            int r = idx[from + i];
            y[i] = chunks[r / chunkRows].targets()[r % chunkRows];
        }
        return Tensor.wrap(y, n);
    }

    /** Row weights (float32 {@code [n]}), or null without a weight column. */
    public Tensor weights(int[] idx, int from, int to) {
        if (!weighted) {
            return null;
        }
        int n = to - from;
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = weightOf(idx[from + i]);
        }
        return Tensor.wrap(w, n);
    }

    /** The sum of the rows' weights (their count without weights), in double, in index order. */
    public double weightSum(int[] idx, int from, int to) {
        if (!weighted) {
            return to - from;
        }
        double s = 0;
        for (int i = from; i < to; i++) {
            s += weightOf(idx[i]);
        }
        return s;
    }

    private float weightOf(int r) {
        return chunks[r / chunkRows].weights()[r % chunkRows];
    }

    /** Identity order {@code 0..rows-1}, for evaluation. */
    public int[] identity() {
        int[] o = new int[rows];
        for (int i = 0; i < rows; i++) {
            o[i] = i;
        }
        return o;
    }

    /** Row {@code r}'s class index (classification only). */
    public long classOf(int r) {
        return chunks[r / chunkRows].classes()[r % chunkRows];
    }
}
