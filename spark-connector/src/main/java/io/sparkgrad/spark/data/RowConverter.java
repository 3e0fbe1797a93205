package io.sparkgrad.spark.data;

import org.apache.spark.api.java.function.Function2;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Queue;

/**
 * Converts one partition's rows, once, into Arrow chunks ({@link ArrowBlock}): checks every row,
 * drops and counts or rejects the invalid ones, splits off the validation share, and ends with the
 * partition's summary. Rows are read in the order {@link DataLayout#selection()} selects them.
 *
 * <p>Which rows go to validation is a function of the seed, the partition and the row's position
 * in it, so a recomputed partition (a lost executor) splits the same way.
 */
public final class RowConverter implements Function2<Integer, Iterator<Row>, Iterator<ArrowBlock>> {
    private static final long serialVersionUID = 1L;
    /**
     * The most bytes one Arrow chunk's IPC stream may take: just under 4 MiB. Small enough that the
     * few copies a chunk passes through while it is encoded (row buffer, Arrow vectors, IPC stream)
     * stay a small share of a 1 GiB executor; large enough that per-chunk costs (IPC headers, one
     * cached object) are negligible. Just under, because with G1 an array a little over 4 MiB
     * takes five 1 MiB regions (the region size of heaps under 2 GiB), wasting a fifth of the heap
     * that Spark's cache of chunks and the decoded partitions fill.
     */
    static final int CHUNK_BYTES = (4 << 20) - (16 << 10);

    /**
     * Rows per chunk for {@code numFeatures} features: the values, the features' and elements'
     * validity bits, an 8-byte label and its validity bit and a 4-byte weight and its bit, per row.
     */
    static int chunkRows(int numFeatures) {
        long bytesPerRow = 4L * numFeatures + (numFeatures + 7) / 8 + 8 + 4 + 1;
        return (int) Math.max(1, CHUNK_BYTES / bytesPerRow);
    }

    private final DataLayout layout;
    private final double validationFraction;
    private final long splitSeed;

    public RowConverter(DataLayout layout, double validationFraction, long splitSeed) {
        this.layout = layout;
        this.validationFraction = validationFraction;
        this.splitSeed = splitSeed;
    }

    @Override
    public Iterator<ArrowBlock> call(Integer partition, Iterator<Row> rows) {
        return new Blocks(partition, rows);
    }

    /**
     * The partition's chunks, each made when it is asked for: Spark caches them one by one as they
     * come (and spills them to disk when its storage memory is full), so converting a partition
     * never holds more than one chunk of it in the heap beyond what Spark has accounted for.
     */
    private final class Blocks implements Iterator<ArrowBlock> {
        private final int partition;
        private final Iterator<Row> rows;
        private final ArrayDeque<ArrowBlock> ready = new ArrayDeque<>(2);
        private final Chunker train;
        private final Chunker validation;
        private final long[] counts = new long[2 + InvalidReason.values().length];
        private final float[] x = new float[layout.numFeatures()];
        private long index;
        private boolean summarized;

        Blocks(int partition, Iterator<Row> rows) {
            this.partition = partition;
            this.rows = rows;
            int chunkRows = chunkRows(layout.numFeatures());
            train = new Chunker(partition, ArrowBlock.TRAIN, chunkRows, ready);
            validation = new Chunker(partition, ArrowBlock.VALIDATION, chunkRows, ready);
        }

        @Override
        public boolean hasNext() {
            while (ready.isEmpty() && !summarized) {
                if (rows.hasNext()) {
                    convert(rows.next());
                } else {
                    train.flush();
                    validation.flush();
                    ready.add(ArrowBlock.summary(partition, counts));
                    summarized = true;
                }
            }
            return !ready.isEmpty();
        }

        @Override
        public ArrowBlock next() {
            if (!hasNext()) {
                throw new NoSuchElementException("partition " + partition + " has no more chunks");
            }
            return ready.poll();
        }

        private void convert(Row row) {
            long r = index++;
            Invalid bad = read(row, x);
            if (bad != null) {
                if (!layout.skipInvalid()) {
                    throw new InvalidRowException(bad.column, bad.reason, bad.detail, partition, r);
                }
                counts[2 + bad.reason.ordinal()]++;
                return;
            }
            boolean held = validationFraction > 0 && uniform(partition, r) < validationFraction;
            (held ? validation : train).add(x, label(row), weight(row));
            counts[held ? 1 : 0]++;
        }
    }

    private double uniform(int partition, long row) {
        long z = PartitionData.mix(PartitionData.mix(splitSeed ^ 0x5851F42D4C957F2DL) + partition * 0x9E3779B97F4A7C15L
                + row * 0xD1B54A32D192ED03L);
        return (z >>> 11) * 0x1.0p-53;
    }

    /** Why a row is unusable. */
    private static final class Invalid {
        final String column;
        final InvalidReason reason;
        final String detail;

        Invalid(String column, InvalidReason reason, String detail) {
            this.column = column;
            this.reason = reason;
            this.detail = detail;
        }
    }

    /** Fills {@code x} with the row's features; returns why the row is invalid, or null. */
    private Invalid read(Row row, float[] x) {
        Invalid bad = readFeatures(row, x);
        if (bad != null) {
            return bad;
        }
        int li = labelIndex();
        String label = layout.labelCol();
        if (row.isNullAt(li)) {
            return new Invalid(label, InvalidReason.NULL_LABEL, "is null");
        }
        double y = ((Number) row.get(li)).doubleValue();
        if (!Double.isFinite(y)) {
            return new Invalid(label, InvalidReason.NON_FINITE_LABEL, "is " + y);
        }
        if (layout.isClassification() && (y != Math.rint(y) || y < 0 || y >= layout.numClasses())) {
            return new Invalid(label, InvalidReason.LABEL_OUT_OF_RANGE, "is " + y + ", expected an integer class index in [0, "
                    + layout.numClasses() + ")");
        }
        if (layout.hasWeights()) {
            int wi = li + 1;
            double w = row.isNullAt(wi) ? Double.NaN : ((Number) row.get(wi)).doubleValue();
            if (!(w >= 0) || Double.isInfinite(w)) {
                return new Invalid(layout.weightCol(), InvalidReason.INVALID_WEIGHT, "is " + (row.isNullAt(wi) ? "null" : w)
                        + ", expected a finite weight >= 0");
            }
        }
        return null;
    }

    private int labelIndex() {
        return layout.source() == DataLayout.FeatureSource.COLUMNS ? layout.numFeatures() : 1;
    }

    private Invalid readFeatures(Row row, float[] x) {
        int d = x.length;
        String[] cols = layout.featureColumns();
        switch (layout.source()) {
            case COLUMNS:
                for (int i = 0; i < d; i++) {
                    if (row.isNullAt(i)) {
                        return new Invalid(cols[i], InvalidReason.NULL_FEATURES, "is null");
                    }
                    double v = ((Number) row.get(i)).doubleValue();
                    if (!Double.isFinite(v)) {
                        return new Invalid(cols[i], InvalidReason.NON_FINITE_FEATURE, "is " + v);
                    }
                    x[i] = (float) v;
                }
                return null;
            case VECTOR: {
                if (row.isNullAt(0)) {
                    return new Invalid(cols[0], InvalidReason.NULL_FEATURES, "is null");
                }
                Vector v = (Vector) row.get(0);
                if (v.size() != d) {
                    return new Invalid(cols[0], InvalidReason.WRONG_FEATURE_LENGTH, "has " + v.size()
                            + " values, expected " + d);
                }
                if (v instanceof DenseVector) {
                    double[] values = ((DenseVector) v).values();
                    for (int i = 0; i < d; i++) {
                        x[i] = (float) values[i];
                    }
                } else {
                    SparseVector s = (SparseVector) v;
                    Arrays.fill(x, 0f);
                    int[] idx = s.indices();
                    double[] values = s.values();
                    for (int k = 0; k < idx.length; k++) {
                        x[idx[k]] = (float) values[k];
                    }
                }
                return checkFinite(cols[0], x);
            }
            default: {
                if (row.isNullAt(0)) {
                    return new Invalid(cols[0], InvalidReason.NULL_FEATURES, "is null");
                }
                List<Object> values = row.getList(0);
                if (values.size() != d) {
                    return new Invalid(cols[0], InvalidReason.WRONG_FEATURE_LENGTH, "has " + values.size()
                            + " values, expected " + d);
                }
                for (int i = 0; i < d; i++) {
                    Object o = values.get(i);
                    if (o == null) {
                        return new Invalid(cols[0], InvalidReason.NULL_FEATURES, "has a null element at index " + i);
                    }
                    x[i] = (float) ((Number) o).doubleValue();
                }
                return checkFinite(cols[0], x);
            }
        }
    }

    private static Invalid checkFinite(String column, float[] x) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                return new Invalid(column, InvalidReason.NON_FINITE_FEATURE, "has " + x[i] + " at index " + i);
            }
        }
        return null;
    }

    private double label(Row row) {
        return ((Number) row.get(labelIndex())).doubleValue();
    }

    private double weight(Row row) {
        return layout.hasWeights() ? ((Number) row.get(labelIndex() + 1)).doubleValue() : 1;
    }

    /** Buffers rows of one kind and emits a chunk every {@code chunkRows} rows. */
    private final class Chunker {
        private final int partition;
        private final int kind;
        private final int chunkRows;
        private final Queue<ArrowBlock> out;
        private float[] x;
        private long[] classes;
        private float[] targets;
        private float[] weights;
        private int n;

        Chunker(int partition, int kind, int chunkRows, Queue<ArrowBlock> out) {
            this.partition = partition;
            this.kind = kind;
            this.chunkRows = chunkRows;
            this.out = out;
        }

        void add(float[] row, double label, double weight) {
            int d = row.length;
            if (x == null || n == capacity()) {
                grow(d);
            }
            System.arraycopy(row, 0, x, n * d, d);
            if (layout.isClassification()) {
                classes[n] = (long) label;
            } else {
                targets[n] = (float) label;
            }
            if (weights != null) {
                weights[n] = (float) weight;
            }
            if (++n == chunkRows) {
                flush();
            }
        }

        private int capacity() {
            return x.length / layout.numFeatures();
        }

        private void grow(int d) {
            int cap = x == null ? Math.min(chunkRows, 1024) : Math.min(chunkRows, capacity() * 2);
            x = x == null ? new float[cap * d] : Arrays.copyOf(x, cap * d);
            if (layout.isClassification()) {
                classes = classes == null ? new long[cap] : Arrays.copyOf(classes, cap);
            } else {
                targets = targets == null ? new float[cap] : Arrays.copyOf(targets, cap);
            }
            if (layout.hasWeights()) {
                weights = weights == null ? new float[cap] : Arrays.copyOf(weights, cap);
            }
        }

        void flush() {
            if (n == 0) {
                return;
            }
            byte[] ipc = ArrowCodec.encode(n, layout.numFeatures(), x, classes, targets, weights);
            out.add(ArrowBlock.chunk(partition, kind, n, ipc));
            n = 0;
        }
    }
}
