package io.sparkgrad.data;

import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Mini-batches over a {@link TensorDataset}, as PyTorch's {@code DataLoader}: a batch size,
 * optional shuffling, and dropping or keeping a last short batch.
 *
 * <p>The shuffle is seeded per epoch: epoch {@code e}'s order is a fixed function of the seed and
 * {@code e} alone, so a run resumed at epoch 5 sees the same batches as one that never stopped,
 * and two runs with the same seed are identical. Every example appears exactly once per epoch.
 *
 * <p>With {@link Builder#reuseBuffers(boolean) reuseBuffers}, batches are copied into the same
 * tensors every step, saving an allocation per batch in long runs. The batch returned by one
 * {@code next()} is then overwritten by the next {@code next()} on any epoch of this loader, so
 * keep nothing from it (copy with {@code clone()} if needed). Each refill bumps the tensors'
 * version counters, so a graph that still holds an overwritten batch refuses to run backward
 * instead of computing a wrong gradient.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.builder(new TensorDataset(images, labels))
 *         .batchSize(128).shuffle(42).build();
 * for (int epoch = 0; epoch < 10; epoch++) {
 *     for (Batch b : loader.epoch(epoch)) {
 *         Tensor loss = F.crossEntropy(model.forward(b.get(0)), b.get(1));
 *         ...
 *     }
 * }
 * }</pre>
 */
public final class DataLoader {
    private final TensorDataset dataset;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final boolean dropLast;
    private final boolean reuseBuffers;
    /** Reused batch tensors by batch length (full batches and the last short one); null until used. */
    private Tensor[] fullBuffers;
    private Tensor[] shortBuffers;

    private DataLoader(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.dropLast = b.dropLast;
        this.reuseBuffers = b.reuseBuffers;
    }

    /** A builder with PyTorch's defaults: batch size 1, no shuffle, last short batch kept, fresh tensors. */
    public static Builder builder(TensorDataset dataset) {
        return new Builder(dataset);
    }

    /** Options for a {@link DataLoader}. */
    public static final class Builder {
        private final TensorDataset dataset;
        private int batchSize = 1;
        private boolean shuffle;
        private long seed;
        private boolean dropLast;
        private boolean reuseBuffers;

        private Builder(TensorDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
        }

        /** Examples per batch (at least 1). */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
            this.batchSize = batchSize;
            return this;
        }

        /** Shuffles every epoch, in an order determined by {@code seed} and the epoch number. */
        public Builder shuffle(long seed) {
            this.shuffle = true;
            this.seed = seed;
            return this;
        }

        /** Leaves out the last batch when it would be smaller than the batch size. */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        /** Copies every batch into the same tensors (see the class comment for what that implies). */
        public Builder reuseBuffers(boolean reuseBuffers) {
            this.reuseBuffers = reuseBuffers;
            return this;
        }

        public DataLoader build() {
            return new DataLoader(this);
        }
    }

    public TensorDataset dataset() {
        return dataset;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Batches per epoch. */
    public int numBatches() {
        int n = dataset.size();
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /**
     * The order in which epoch {@code epoch} visits the dataset's rows: a permutation of
     * {@code 0 .. size-1} (the identity without shuffling). Batches take it in slices.
     */
    public int[] order(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be non-negative, got " + epoch);
        }
        int n = dataset.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        if (shuffle) {
            Generator g = new Generator(epochSeed(seed, epoch));
            for (int i = n - 1; i > 0; i--) {
                int j = g.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    /**
     * A well-mixed seed per epoch (SplitMix64's finaliser). Plain {@code seed + epoch * constant}
     * would not do: the generators of nearby seeds can produce shifted copies of one sequence.
     */
    private static long epochSeed(long seed, int epoch) {
        long z = seed ^ (0xD1B54A32D192ED03L * (epoch + 1L));
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The batches of epoch {@code epoch}, for a for-each loop; each iteration replays the same batches. */
    public Iterable<Batch> epoch(int epoch) {
        int[] order = order(epoch);
        return () -> new EpochIterator(epoch, order);
    }

    private Tensor[] buffersFor(int rows) {
        if (!reuseBuffers) {
            return dataset.newBatch(rows);
        }
        if (rows == batchSize) {
            if (fullBuffers == null) {
                fullBuffers = dataset.newBatch(rows);
            }
            return fullBuffers;
        }
        if (shortBuffers == null || shortBuffers[0].size(0) != rows) {
            shortBuffers = dataset.newBatch(rows);
        }
        return shortBuffers;
    }

    private final class EpochIterator implements Iterator<Batch> {
        private final int epoch;
        private final int[] order;
        private final int batches = numBatches();
        private int next;

        EpochIterator(int epoch, int[] order) {
            this.epoch = epoch;
            this.order = order;
        }

        @Override
        public boolean hasNext() {
            return next < batches;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException("epoch " + epoch + " has " + batches + " batches");
            }
            int from = next * batchSize;
            int rows = Math.min(batchSize, order.length - from);
            Tensor[] tensors = buffersFor(rows);
            dataset.copyRows(order, from, rows, tensors);
            if (reuseBuffers) {
                for (Tensor t : tensors) {
                    t.storage().bumpVersion();
                }
            }
            return new Batch(epoch, next++, Arrays.copyOfRange(order, from, from + rows), List.of(tensors));
        }
    }
}
