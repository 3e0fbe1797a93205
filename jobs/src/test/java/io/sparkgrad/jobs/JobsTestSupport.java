package io.sparkgrad.jobs;

import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.ArrowWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.spark.sql.SparkSession;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * What the jobs' tests share: one real Spark ({@code local[2]} on 127.0.0.1, no UI, Kryo with the
 * Sparkgrad registrator, as the jobs configure their own sessions), running a job in-process with
 * its output captured, and seeded synthetic data written as real files in every input format.
 */
final class JobsTestSupport {
    private JobsTestSupport() {
    }

    static SparkSession session(String name) {
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName(name)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    /** A job's exit status and what it printed. */
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs {@code Main} with {@code args} in this JVM (on the test's Spark session). */
    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The names in {@code dir} (empty when it does not exist). */
    static List<String> list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    // ------------------------------------------------------------------ synthetic data

    /**
     * Seeded blobs: {@code n} rows, {@code d} features in [0, 1], {@code classes} classes, each class
     * a cloud (noise 0.06 per feature) around its own centre, the centres at least 0.5 apart.
     */
    static final class Blobs {
        final int n;
        final int d;
        final int classes;
        final double[][] x;
        final int[] y;

        /** The class centres come from {@code seed}; the rows from {@code seed} and {@code n}, so sets of other sizes differ. */
        Blobs(int n, int d, int classes, long seed) {
            this.n = n;
            this.d = d;
            this.classes = classes;
            SplittableRandom c0 = new SplittableRandom(seed);
            double[][] centres = new double[classes][d];
            for (int c = 0; c < classes; c++) {
                do { // at least 0.5 from every other centre: ten times the noise, so a small network separates them
                    for (int j = 0; j < d; j++) {
                        centres[c][j] = 0.2 + 0.6 * c0.nextDouble();
                    }
                } while (closest(centres, c) < 0.5);
            }
            SplittableRandom r = new SplittableRandom(seed * 1_000_003L + n);
            x = new double[n][d];
            y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = r.nextInt(classes);
                for (int j = 0; j < d; j++) {
                    x[i][j] = Math.min(1, Math.max(0, centres[y[i]][j] + 0.06 * gaussian(r)));
                }
            }
        }

        /** The distance from centre {@code c} to the nearest centre before it. */
        private static double closest(double[][] centres, int c) {
            double best = Double.POSITIVE_INFINITY;
            for (int o = 0; o < c; o++) {
                double sq = 0;
                for (int j = 0; j < centres[c].length; j++) {
                    sq += (centres[c][j] - centres[o][j]) * (centres[c][j] - centres[o][j]);
                }
                best = Math.min(best, Math.sqrt(sq));
            }
            return best;
        }

        private static double gaussian(SplittableRandom r) {
            return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        }

        /** A CSV file with a header {@code f0,…,label}. */
        Path writeCsv(Path file) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int j = 0; j < d; j++) {
                b.append('f').append(j).append(',');
            }
            b.append("label\n");
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    b.append(String.format(Locale.ROOT, "%.6f,", x[i][j]));
                }
                b.append(y[i]).append('\n');
            }
            Files.writeString(file, b.toString());
            return file;
        }

        /** A LibSVM file: {@code label 1:v 2:v …} (indices from 1). */
        Path writeLibsvm(Path file) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) {
                b.append(y[i]);
                for (int j = 0; j < d; j++) {
                    b.append(String.format(Locale.ROOT, " %d:%.6f", j + 1, x[i][j]));
                }
                b.append('\n');
            }
            Files.writeString(file, b.toString());
            return file;
        }

        /** The rows as unsigned bytes, {@code round(255 x)}: what an IDX images file holds. */
        byte[][] pixels() {
            byte[][] p = new byte[n][d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    p[i][j] = (byte) Math.round(255 * x[i][j]);
                }
            }
            return p;
        }

        /**
         * An IDX pair in {@code dir}: {@code NAME-images-idx3-ubyte[.gz]} of shape {@code [n, rows, d / rows]}
         * and {@code NAME-labels-idx1-ubyte[.gz]}; returns the images file.
         */
        Path writeIdx(Path dir, String name, int rows, boolean gzip) throws IOException {
            String ext = gzip ? ".gz" : "";
            Path images = dir.resolve(name + "-images-idx3-ubyte" + ext);
            try (DataOutputStream o = new DataOutputStream(open(images, gzip))) {
                o.writeInt(0x00000803);
                o.writeInt(n);
                o.writeInt(rows);
                o.writeInt(d / rows);
                for (byte[] row : pixels()) {
                    o.write(row);
                }
            }
            try (DataOutputStream o = new DataOutputStream(open(dir.resolve(name + "-labels-idx1-ubyte" + ext), gzip))) {
                o.writeInt(0x00000801);
                o.writeInt(n);
                for (int label : y) {
                    o.write(label);
                }
            }
            return images;
        }

        private static OutputStream open(Path p, boolean gzip) throws IOException {
            OutputStream o = Files.newOutputStream(p);
            return gzip ? new GZIPOutputStream(o) : o;
        }

        /**
         * An Arrow IPC file ({@code stream} false) or stream: {@code features} a fixed-size list of
         * float32, {@code label} an int32, in record batches of {@code batch} rows.
         */
        Path writeArrow(Path file, boolean stream, int batch) throws IOException {
            Field element = new Field("item", FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
                    null);
            Schema schema = new Schema(List.of(
                    new Field("features", FieldType.nullable(new ArrowType.FixedSizeList(d)), List.of(element)),
                    new Field("label", FieldType.nullable(new ArrowType.Int(32, true)), null)));
            try (BufferAllocator alloc = new RootAllocator();
                    VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc);
                    OutputStream out = Files.newOutputStream(file);
                    ArrowWriter w = stream ? new ArrowStreamWriter(root, null, Channels.newChannel(out))
                            : new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                w.start();
                for (int start = 0; start < n; start += batch) {
                    int m = Math.min(batch, n - start);
                    root.allocateNew();
                    FixedSizeListVector f = (FixedSizeListVector) root.getVector("features");
                    Float4Vector values = (Float4Vector) f.getDataVector();
                    IntVector labels = (IntVector) root.getVector("label");
                    for (int i = 0; i < m; i++) {
                        f.setNotNull(i);
                        for (int j = 0; j < d; j++) {
                            values.setSafe(i * d + j, (float) x[start + i][j]);
                        }
                        labels.setSafe(i, y[start + i]);
                    }
                    values.setValueCount(m * d);
                    root.setRowCount(m);
                    w.writeBatch();
                }
                w.end();
            }
            return file;
        }

        /** The rows as a Java list for {@code spark.createDataFrame}: {@code f0…f(d-1)} doubles and an int label. */
        List<org.apache.spark.sql.Row> rows() {
            List<org.apache.spark.sql.Row> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Object[] v = new Object[d + 1];
                for (int j = 0; j < d; j++) {
                    v[j] = x[i][j];
                }
                v[d] = y[i];
                out.add(org.apache.spark.sql.RowFactory.create(v));
            }
            return out;
        }

        org.apache.spark.sql.types.StructType schema() {
            List<org.apache.spark.sql.types.StructField> f = new ArrayList<>();
            for (int j = 0; j < d; j++) {
                f.add(org.apache.spark.sql.types.DataTypes.createStructField("f" + j,
                        org.apache.spark.sql.types.DataTypes.DoubleType, false));
            }
            f.add(org.apache.spark.sql.types.DataTypes.createStructField("label",
                    org.apache.spark.sql.types.DataTypes.IntegerType, false));
            return org.apache.spark.sql.types.DataTypes.createStructType(f);
        }
    }
}
