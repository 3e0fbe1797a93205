package io.sparkgrad.spark.train;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One real Spark for a test class: {@code local[2]} on 127.0.0.1, no UI, Kryo with
 * {@code registrationRequired=true} and the Sparkgrad registrator (so every test also checks that
 * registration is complete), and seeded synthetic data sets.
 */
public final class SparkTestSupport {
    private SparkTestSupport() {
    }

    /** A session for one test class; stop it in {@code @AfterAll}. */
    public static SparkSession session(String name) {
        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName(name)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.kryo.registrationRequired", "true")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.default.parallelism", "2")
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }

    public static void stop(SparkSession spark) {
        if (spark != null) {
            spark.stop();
        }
    }

    /** A small MLP {@code d → hidden → classes} (ReLU). */
    public static SerializableSupplier<Module> mlp(int d, int hidden, int classes) {
        return () -> new Sequential(new Linear(d, hidden), new ReLU(), new Linear(hidden, classes));
    }

    /**
     * Seeded synthetic classification data, a pure function of the row id: class {@code c} is a
     * Gaussian blob around a seeded random centre. Spark builds the DataFrame from the ids and a
     * test builds the same rows locally as a reference.
     */
    public static final class Blobs implements Serializable {
        private static final long serialVersionUID = 1L;
        final int d;
        final int classes;
        final double noise;
        final long seed;
        private final double[][] centres;

        public Blobs(int d, int classes, double noise, long seed) {
            this.d = d;
            this.classes = classes;
            this.noise = noise;
            this.seed = seed;
            SplittableRandom r = new SplittableRandom(seed);
            centres = new double[classes][d];
            for (double[] c : centres) {
                for (int j = 0; j < d; j++) {
                    c[j] = r.nextDouble(-2, 2);
                }
            }
        }

        public long label(long id) {
            return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id).nextInt(classes);
        }

        public double[] features(long id) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            int c = r.nextInt(classes);
            double[] x = new double[d];
            for (int j = 0; j < d; j++) {
                x[j] = (float) (centres[c][j] + noise * gaussian(r));
            }
            return x;
        }

        /** Rows {@code [from, to)}'s features as float32 {@code [to-from, d]}, row-major. */
        public float[] featureMatrix(long from, long to) {
            float[] out = new float[(int) (to - from) * d];
            for (long i = from; i < to; i++) {
                double[] x = features(i);
                for (int j = 0; j < d; j++) {
                    out[(int) (i - from) * d + j] = (float) x[j];
                }
            }
            return out;
        }

        public long[] labels(long from, long to) {
            long[] out = new long[(int) (to - from)];
            for (long i = from; i < to; i++) {
                out[(int) (i - from)] = label(i);
            }
            return out;
        }

        /**
         * {@code id: long, features: vector, label: double} for ids {@code [0, n)} in {@code partitions}
         * partitions, partition {@code p} holding ids {@code [p·n/P, (p+1)·n/P)} in order.
         */
        public Dataset<Row> frame(SparkSession spark, long n, int partitions) {
            Blobs self = this;
            UserDefinedFunction feat = functions.udf((UDF1<Long, Vector>) id -> Vectors.dense(self.features(id)),
                    SQLDataTypes.VectorType());
            UserDefinedFunction lab = functions.udf((UDF1<Long, Double>) id -> (double) self.label(id),
                    DataTypes.DoubleType);
            return spark.range(0, n, 1, partitions).select(functions.col("id"),
                    feat.apply(functions.col("id")).as("features"), lab.apply(functions.col("id")).as("label"));
        }
    }

    static double gaussian(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** Schema {@code features: vector, label: double}, for rows built locally. */
    public static StructType vectorSchema() {
        return new StructType()
                .add("features", SQLDataTypes.VectorType(), true)
                .add("label", DataTypes.DoubleType, true);
    }

    /** A DataFrame from rows built locally (one partition per {@code spark.default.parallelism} slice). */
    public static Dataset<Row> frame(SparkSession spark, List<Row> rows, StructType schema) {
        return spark.createDataFrame(rows, schema);
    }
}
