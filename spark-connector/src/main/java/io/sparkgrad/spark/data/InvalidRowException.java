package io.sparkgrad.spark.data;

/**
 * A row that cannot be used for training, met with {@code handleInvalid = "error"}. The message
 * names the column, the problem, the partition and the row (counted from 0 within the partition
 * of the DataFrame as it was handed to the trainer), and says how to drop such rows instead.
 * Spark wraps it in a {@code SparkException} on the driver; it stays the cause.
 */
public final class InvalidRowException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String column;
    private final InvalidReason reason;
    private final int partition;
    private final long row;

    public InvalidRowException(String column, InvalidReason reason, String detail, int partition, long row) {
        super("invalid row " + row + " of partition " + partition + ": column '" + column + "' " + detail + " ("
                + reason.label() + "); set handleInvalid to \"skip\" to drop and count such rows");
        this.column = column;
        this.reason = reason;
        this.partition = partition;
        this.row = row;
    }

    public String column() {
        return column;
    }

    public InvalidReason reason() {
        return reason;
    }

    public int partition() {
        return partition;
    }

    public long row() {
        return row;
    }
}
