package io.sparkgrad.spark.ml;

import io.sparkgrad.Device;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.data.InvalidReason;
import io.sparkgrad.spark.data.InvalidRowException;
import io.sparkgrad.spark.train.ExecutorDevice;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.reflect.ClassTag$;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Runs a trained network over a DataFrame on the executors: each partition builds the network
 * once from the broadcast weights, stacks its rows into batches of {@link #BATCH_ROWS}, runs one
 * forward pass per batch (no graph), and appends the output columns to each row.
 *
 * <p>A row whose features are null, NaN or infinite, or of the wrong length, fails the task with
 * an {@link InvalidRowException} naming the column, the problem, the partition and the row
 * ({@code handleInvalid = "error"}), or is dropped ({@code "skip"}).
 *
 * <p>With a device other than cpu ({@link #withDevice}), each partition moves its network to that
 * device of its executor once, and each batch there and its outputs back.
 */
final class BatchScorer implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Rows per forward pass: big enough for the matrix products, small enough to stream. */
    static final int BATCH_ROWS = 512;

    /** What to append to each row from the network's output row. */
    enum Head {
        /** Logits: rawPrediction (vector), probability (softmax vector), prediction (argmax). */
        CLASSIFIER,
        /** One real output: prediction. */
        REGRESSOR,
        /** The output row as one vector. */
        VECTOR
    }

    private final SerializableSupplier<? extends Module> factory;
    private final Broadcast<byte[]> weights;
    private final String featuresCol;
    private final int numFeatures;
    private final int numOutputs;
    private final Head head;
    /** For CLASSIFIER: which of raw, probability, prediction to append; VECTOR and REGRESSOR append one column. */
    private final boolean[] columns;
    private final boolean skipInvalid;
    /** The shape of one example as the network takes it (e.g. {@code {1, 28, 28}}), or null for a flat vector. */
    private int[] exampleShape;
    /** The model's device setting (cpu, opencl, opencl:N), resolved on each executor. */
    private String device = "cpu";

    BatchScorer(SerializableSupplier<? extends Module> factory, Broadcast<byte[]> weights, String featuresCol,
            int numFeatures, int numOutputs, Head head, boolean[] columns, boolean skipInvalid) {
        this.factory = factory;
        this.weights = weights;
        this.featuresCol = featuresCol;
        this.numFeatures = numFeatures;
        this.numOutputs = numOutputs;
        this.head = head;
        this.columns = columns.clone();
        this.skipInvalid = skipInvalid;
    }

    /** Feeds the network {@code [n, exampleShape...]} instead of {@code [n, numFeatures]}. */
    BatchScorer withExampleShape(int[] shape) {
        this.exampleShape = shape == null ? null : shape.clone();
        return this;
    }

    /** Scores on the device {@code setting} names on each executor (see {@link ScoringDevice}). */
    BatchScorer withDevice(String setting) {
        this.device = setting;
        return this;
    }

    /** Broadcasts {@code bytes} once per SparkContext; {@link Cache} keeps it for the next transform. */
    static final class Cache implements Serializable {
        private static final long serialVersionUID = 1L;
        private transient SparkContext context;
        private transient Broadcast<byte[]> broadcast;

        synchronized Broadcast<byte[]> get(SparkContext sc, byte[] bytes) {
            if (broadcast == null || context != sc || sc.isStopped()) {
                broadcast = sc.broadcast(bytes, ClassTag$.MODULE$.apply(byte[].class));
                context = sc;
            }
            return broadcast;
        }
    }

    /** {@code df} with the output columns appended ({@code outSchema} = its schema plus them). */
    Dataset<Row> transform(Dataset<Row> df, StructType outSchema) {
        int featuresIndex = df.schema().fieldIndex(featuresCol);
        boolean vector = df.schema().apply(featuresIndex).dataType().equals(SQLDataTypes.VectorType());
        int inputWidth = df.schema().size();
        Dataset<Row> out = df.mapPartitions(new Score(this, featuresIndex, vector, inputWidth), Encoders.row(outSchema));
        // The row encoder drops column metadata (class counts, vector sizes): put the output columns' back.
        for (int i = inputWidth; i < outSchema.size(); i++) {
            StructField f = outSchema.apply(i);
            if (f.metadata().json().length() > 2) {
                out = out.withMetadata(f.name(), f.metadata());
            }
        }
        return out;
    }

    /** The task: one partition's rows in, the same rows (less skipped ones) with outputs out. */
    private static final class Score implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final BatchScorer s;
        private final int featuresIndex;
        private final boolean vector;
        private final int inputWidth;

        Score(BatchScorer s, int featuresIndex, boolean vector, int inputWidth) {
            this.s = s;
            this.featuresIndex = featuresIndex;
            this.vector = vector;
            this.inputWidth = inputWidth;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            if (!rows.hasNext()) {
                return rows;
            }
            Device device = ExecutorDevice.pick(s.device);
            Module net = Weights.build(s.factory, s.weights.value(), "the broadcast model weights");
            if (!device.isCpu()) {
                net.to(device);
            }
            TaskContext task = TaskContext.get();
            int partition = task == null ? -1 : task.partitionId();
            return new Batches(rows, net, device, partition);
        }

        private final class Batches implements Iterator<Row> {
            private final Iterator<Row> in;
            private final Module net;
            private final Device device;
            private final int partition;
            private final float[] x = new float[BATCH_ROWS * s.numFeatures];
            private final List<Row> pending = new ArrayList<>(BATCH_ROWS);
            private List<Row> out = List.of();
            private int next;
            private long rowIndex;

            Batches(Iterator<Row> in, Module net, Device device, int partition) {
                this.in = in;
                this.net = net;
                this.device = device;
                this.partition = partition;
            }

            @Override
            public boolean hasNext() {
                while (next >= out.size()) {
                    if (!in.hasNext()) {
                        return false;
                    }
                    fill();
                }
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return out.get(next++);
            }

            /** Reads up to BATCH_ROWS valid rows, runs them through the network, makes their output rows. */
            private void fill() {
                pending.clear();
                while (pending.size() < BATCH_ROWS && in.hasNext()) {
                    Row r = in.next();
                    if (readFeatures(r, pending.size(), rowIndex++)) {
                        pending.add(r);
                    }
                }
                int n = pending.size();
                List<Row> rows = new ArrayList<>(n);
                if (n > 0) {
                    float[] y = forward(n);
                    for (int i = 0; i < n; i++) {
                        rows.add(outputRow(pending.get(i), y, i));
                    }
                }
                out = rows;
                next = 0;
            }

            private float[] forward(int n) {
                float[] batch = new float[n * s.numFeatures];
                System.arraycopy(x, 0, batch, 0, batch.length);
                Tensor y;
                try (GradMode.Guard g = GradMode.noGrad()) {
                    Tensor input = Tensor.wrap(batch, shape(n));
                    y = net.apply(device.isCpu() ? input : input.to(device));
                }
                if (y.numel() != n * s.numOutputs) {
                    throw new IllegalStateException("the network returned shape " + java.util.Arrays.toString(y.shape())
                            + " for a batch of " + n + " rows; expected " + n + " × " + s.numOutputs);
                }
                return y.device().isCpu() ? y.contiguousData().toFloatArray() : y.toFloatArray();
            }

            private int[] shape(int n) {
                if (s.exampleShape == null) {
                    return new int[] {n, s.numFeatures};
                }
                int[] shape = new int[s.exampleShape.length + 1];
                shape[0] = n;
                System.arraycopy(s.exampleShape, 0, shape, 1, s.exampleShape.length);
                return shape;
            }

            /** Copies row r's features into slot i of x; false when the row is invalid and skipped. */
            private boolean readFeatures(Row r, int slot, long row) {
                Object v = r.isNullAt(featuresIndex) ? null : r.get(featuresIndex);
                if (v == null) {
                    return invalid(InvalidReason.NULL_FEATURES, "is null", row);
                }
                int base = slot * s.numFeatures;
                if (vector) {
                    Vector vec = (Vector) v;
                    if (vec.size() != s.numFeatures) {
                        return invalid(InvalidReason.WRONG_FEATURE_LENGTH, "has " + vec.size()
                                + " elements, the model takes " + s.numFeatures, row);
                    }
                    double[] d = vec.toArray();
                    for (int j = 0; j < d.length; j++) {
                        if (!Double.isFinite(d[j])) {
                            return invalid(InvalidReason.NON_FINITE_FEATURE, "element " + j + " is " + d[j], row);
                        }
                        x[base + j] = (float) d[j];
                    }
                } else {
                    List<Object> list = r.getList(featuresIndex);
                    if (list.size() != s.numFeatures) {
                        return invalid(InvalidReason.WRONG_FEATURE_LENGTH, "has " + list.size()
                                + " elements, the model takes " + s.numFeatures, row);
                    }
                    for (int j = 0; j < list.size(); j++) {
                        Object e = list.get(j);
                        if (e == null) {
                            return invalid(InvalidReason.NULL_FEATURES, "element " + j + " is null", row);
                        }
                        double d = ((Number) e).doubleValue();
                        if (!Double.isFinite(d)) {
                            return invalid(InvalidReason.NON_FINITE_FEATURE, "element " + j + " is " + d, row);
                        }
                        x[base + j] = (float) d;
                    }
                }
                return true;
            }

            private boolean invalid(InvalidReason reason, String detail, long row) {
                if (s.skipInvalid) {
                    return false;
                }
                throw new InvalidRowException(s.featuresCol, reason, detail, partition, row);
            }

            private Row outputRow(Row r, float[] y, int i) {
                int base = i * s.numOutputs;
                List<Object> extra = new ArrayList<>(3);
                switch (s.head) {
                    case CLASSIFIER: {
                        double[] raw = new double[s.numOutputs];
                        for (int k = 0; k < raw.length; k++) {
                            raw[k] = y[base + k];
                        }
                        if (s.columns[0]) {
                            extra.add(Vectors.dense(raw));
                        }
                        if (s.columns[1]) {
                            extra.add(Vectors.dense(softmax(raw)));
                        }
                        if (s.columns[2]) {
                            extra.add((double) argmax(raw));
                        }
                        break;
                    }
                    case REGRESSOR:
                        extra.add((double) y[base]);
                        break;
                    default: {
                        double[] v = new double[s.numOutputs];
                        for (int k = 0; k < v.length; k++) {
                            v[k] = y[base + k];
                        }
                        extra.add(Vectors.dense(v));
                    }
                }
                Object[] values = new Object[inputWidth + extra.size()];
                for (int k = 0; k < inputWidth; k++) {
                    values[k] = r.get(k);
                }
                for (int k = 0; k < extra.size(); k++) {
                    values[inputWidth + k] = extra.get(k);
                }
                return RowFactory.create(values);
            }
        }
    }

    /** Softmax in double precision, shifted by the maximum so it cannot overflow. */
    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int k = 0; k < p.length; k++) {
            p[k] = Math.exp(logits[k] - max);
            sum += p[k];
        }
        for (int k = 0; k < p.length; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** The index of the largest value, the first one on ties (as Spark's {@code Vector.argmax}). */
    static int argmax(double[] v) {
        int best = 0;
        for (int k = 1; k < v.length; k++) {
            if (v[k] > v[best]) {
                best = k;
            }
        }
        return best;
    }
}
