package io.sparkgrad.spark.train;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoSerializable;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What one step sums over the partitions: a flat float gradient (or, with local steps, the
 * weighted parameter change), the loss sum, the weight sum (the row count without weights), the
 * row count, a metric sum (correct predictions or squared error, for evaluation) and the slowest
 * task's compute time. It is the {@code U} of {@code treeAggregate}, in the manner of Spark
 * MLlib's {@code DifferentiableLossAggregator}: {@code merge} adds in place, and the zero value
 * ({@link #GradientAggregator()}) holds no buffer at all, so it is tiny to ship with every task;
 * buffers appear only in the {@link #leaf leaves} that tasks create.
 *
 * <h2>Reproducible sums whatever the merge order</h2>
 * Float addition is not associative, and Spark merges task results in the order they finish (on
 * the driver for depth 1, within a shuffle otherwise), so a naive sum changes in the last bits from
 * run to run. Here every partition's result is a leaf with a fixed position (its
 * {@link TreePlan#leafOf leaf index}), and sums are only ever formed along one fixed binary tree over
 * the leaf positions: an aggregator holds a set of aligned blocks (block {@code (level, i)} sums
 * leaves {@code [i·2^level, (i+1)·2^level)}), and two blocks are added only when they are siblings,
 * left plus right, making their parent. Whatever the order and grouping of merges, each block's
 * value is therefore the same, and {@link #finish()} adds the few blocks left (the binary
 * decomposition of the partition count) from left to right. Memory stays small when merges come
 * roughly in leaf order, which {@link TreePlan} arranges for the deeper trees.
 */
public final class GradientAggregator implements Serializable, KryoSerializable {
    private static final long serialVersionUID = 1L;

    /** An aligned block of leaves and its sums. */
    private static final class Block implements Serializable {
        private static final long serialVersionUID = 1L;
        int level;
        long index;
        /** Null stands for zeros (a partition with no rows in the step). */
        float[] vector;
        double loss;
        double weight;
        long rows;
        double metric;

        long start() {
            return index << level;
        }

        /** {@code this + right}, this being the left sibling; reuses this block's buffer. */
        Block plus(Block right) {
            if (vector == null) {
                vector = right.vector;
            } else if (right.vector != null) {
                if (vector.length != right.vector.length) {
                    throw new IllegalStateException("gradient buffers of different lengths: " + vector.length + " and "
                            + right.vector.length);
                }
                float[] a = vector;
                float[] b = right.vector;
                for (int i = 0; i < a.length; i++) {
                    a[i] += b[i];
                }
            }
            loss += right.loss;
            weight += right.weight;
            rows += right.rows;
            metric += right.metric;
            return this;
        }
    }

    /** Null in the zero value. */
    private List<Block> blocks;
    private long computeNanos;
    private long totalComputeNanos;

    /** The zero value: no buffer. */
    public GradientAggregator() {
    }

    /**
     * One partition's contribution.
     *
     * @param leaf         the partition's fixed leaf position ({@link TreePlan#leafOf})
     * @param vector       the flat gradient (or weighted parameter change); null for zeros
     * @param computeNanos the task's compute time
     */
    public static GradientAggregator leaf(int leaf, float[] vector, double loss, double weight, long rows, double metric,
            long computeNanos) {
        Block b = new Block();
        b.level = 0;
        b.index = leaf;
        b.vector = vector;
        b.loss = loss;
        b.weight = weight;
        b.rows = rows;
        b.metric = metric;
        GradientAggregator a = new GradientAggregator();
        a.blocks = new ArrayList<>(2);
        a.blocks.add(b);
        a.computeNanos = computeNanos;
        a.totalComputeNanos = computeNanos;
        return a;
    }

    /** Adds {@code other} into this one (in place, taking over its buffers) and returns this. */
    public GradientAggregator merge(GradientAggregator other) {
        if (other.blocks != null) {
            if (blocks == null) {
                blocks = new ArrayList<>(other.blocks.size() + 1);
            }
            for (Block b : other.blocks) {
                insert(b);
            }
            other.blocks = null;
        }
        computeNanos = Math.max(computeNanos, other.computeNanos);
        totalComputeNanos += other.totalComputeNanos;
        return this;
    }

    private void insert(Block b) {
        while (true) {
            Block sibling = null;
            for (Block c : blocks) {
                if (c.level == b.level && c.index == (b.index ^ 1)) {
                    sibling = c;
                    break;
                }
                if (c.level == b.level && c.index == b.index) {
                    throw new IllegalStateException("leaf block (" + b.level + ", " + b.index
                            + ") merged twice: a partition's result was counted twice");
                }
            }
            if (sibling == null) {
                blocks.add(b);
                return;
            }
            blocks.remove(sibling);
            Block left = (b.index & 1) == 0 ? b : sibling;
            Block right = left == b ? sibling : b;
            Block parent = left.plus(right);
            parent.level++;
            parent.index >>= 1;
            b = parent;
        }
    }

    /** Blocks held now (a test hook for the memory bound). */
    int blockCount() {
        return blocks == null ? 0 : blocks.size();
    }

    /** The sums, combining what is left from left to right; the aggregator is spent afterwards. */
    public Sums finish() {
        Sums s = new Sums();
        s.computeNanos = computeNanos;
        s.totalComputeNanos = totalComputeNanos;
        if (blocks == null || blocks.isEmpty()) {
            return s;
        }
        blocks.sort(Comparator.comparingLong(Block::start));
        Block acc = blocks.get(0);
        for (int i = 1; i < blocks.size(); i++) {
            acc.plus(blocks.get(i));
        }
        blocks = null;
        s.vector = acc.vector;
        s.loss = acc.loss;
        s.weight = acc.weight;
        s.rows = acc.rows;
        s.metric = acc.metric;
        return s;
    }

    /** The totals of a step or an evaluation. */
    public static final class Sums {
        /** Null when no partition had rows. */
        public float[] vector;
        public double loss;
        public double weight;
        public long rows;
        public double metric;
        /** The slowest task's compute time. */
        public long computeNanos;
        /** Every task's compute time, added up. */
        public long totalComputeNanos;
    }

    @Override
    public void write(Kryo kryo, Output out) {
        out.writeLong(computeNanos);
        out.writeLong(totalComputeNanos);
        if (blocks == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(blocks.size());
        for (Block b : blocks) {
            out.writeInt(b.level);
            out.writeLong(b.index);
            out.writeDouble(b.loss);
            out.writeDouble(b.weight);
            out.writeLong(b.rows);
            out.writeDouble(b.metric);
            if (b.vector == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(b.vector.length);
                out.writeFloats(b.vector);
            }
        }
    }

    @Override
    public void read(Kryo kryo, Input in) {
        computeNanos = in.readLong();
        totalComputeNanos = in.readLong();
        int n = in.readInt();
        if (n < 0) {
            blocks = null;
            return;
        }
        blocks = new ArrayList<>(n + 1);
        for (int k = 0; k < n; k++) {
            Block b = new Block();
            b.level = in.readInt();
            b.index = in.readLong();
            b.loss = in.readDouble();
            b.weight = in.readDouble();
            b.rows = in.readLong();
            b.metric = in.readDouble();
            int len = in.readInt();
            b.vector = len < 0 ? null : in.readFloats(len);
            blocks.add(b);
        }
    }
}
