package io.sparkgrad.spark.data;

import java.io.Serializable;

/**
 * One element of the cached training data: a chunk of one partition's converted rows as an Arrow
 * IPC stream ({@link ArrowCodec}), or the partition's summary (row and skip counts). A partition
 * holds its chunks in order, then its summary.
 *
 * <p>This is what Spark caches ({@code MEMORY_AND_DISK}): a plain {@code byte[]} that the block
 * manager can measure, keep, spill and serialize with Kryo ({@code SparkgradKryoRegistrator}
 * registers it). See {@link ConvertedData} for why the cache holds IPC bytes rather than Arrow
 * vectors.
 */
public final class ArrowBlock implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Rows for training. */
    public static final int TRAIN = 0;
    /** Rows held out for validation. */
    public static final int VALIDATION = 1;
    /** No rows: the partition's counts. */
    public static final int SUMMARY = 2;

    private final int partition;
    private final int kind;
    private final int rows;
    private final byte[] ipc;
    private final long[] counts;

    private ArrowBlock(int partition, int kind, int rows, byte[] ipc, long[] counts) {
        this.partition = partition;
        this.kind = kind;
        this.rows = rows;
        this.ipc = ipc;
        this.counts = counts;
    }

    /** A chunk of {@code rows} rows of {@code kind} ({@link #TRAIN} or {@link #VALIDATION}). */
    public static ArrowBlock chunk(int partition, int kind, int rows, byte[] ipc) {
        if (kind != TRAIN && kind != VALIDATION) {
            throw new IllegalArgumentException("a chunk is TRAIN or VALIDATION, got " + kind);
        }
        return new ArrowBlock(partition, kind, rows, ipc, null);
    }

    /**
     * The partition's summary: {@code counts[0]} training rows, {@code counts[1]} validation rows,
     * then the skipped rows per {@link InvalidReason}, in declaration order.
     */
    public static ArrowBlock summary(int partition, long[] counts) {
        if (counts.length != 2 + InvalidReason.values().length) {
            throw new IllegalArgumentException("a summary holds " + (2 + InvalidReason.values().length) + " counts, got "
                    + counts.length);
        }
        return new ArrowBlock(partition, SUMMARY, 0, null, counts.clone());
    }

    /** Kryo's way back in ({@code SparkgradKryoRegistrator}): the fields as written. */
    public static ArrowBlock of(int partition, int kind, int rows, byte[] ipc, long[] counts) {
        if (kind == SUMMARY) {
            return summary(partition, counts);
        }
        return chunk(partition, kind, rows, ipc);
    }

    public int partition() {
        return partition;
    }

    public int kind() {
        return kind;
    }

    public boolean isSummary() {
        return kind == SUMMARY;
    }

    /** Rows in this chunk (0 for a summary). */
    public int rows() {
        return rows;
    }

    /** The Arrow IPC stream (null for a summary). Not copied: do not modify. */
    public byte[] ipc() {
        return ipc;
    }

    /** A summary's counts (null for a chunk); see {@link #summary}. */
    public long[] counts() {
        return counts == null ? null : counts.clone();
    }

    public long trainRows() {
        return counts[0];
    }

    public long validationRows() {
        return counts[1];
    }

    public long skipped(InvalidReason reason) {
        return counts[2 + reason.ordinal()];
    }

    @Override
    public String toString() {
        return isSummary() ? "ArrowBlock(partition " + partition + " summary: train=" + counts[0] + ", validation="
                + counts[1] + ")"
                : "ArrowBlock(partition " + partition + (kind == TRAIN ? " train" : " validation") + ", " + rows
                        + " rows, " + ipc.length + " bytes)";
    }
}
