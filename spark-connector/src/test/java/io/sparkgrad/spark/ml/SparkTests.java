package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.SplittableRandom;

/** Spark sessions and seeded synthetic data sets for the ML tests. */
final class SparkTests {
    private SparkTests() {
    }

    /**
     * A real {@code local[2]} session for one test class (stop it in {@code @AfterAll}): loopback,
     * no UI, Kryo with Sparkgrad's registrator. With {@code registrationRequired}, Kryo refuses any
     * class nobody registered, which proves that Sparkgrad's own paths are registered; tests that run
     * Spark ML's own stages and evaluators go without, since Spark does not register their classes.
     */
    static SparkSession session(String name, boolean registrationRequired) {
        return SparkSession.builder()
                .master("local[2]")
                .appName(name)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.kryo.registrationRequired", Boolean.toString(registrationRequired))
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .getOrCreate();
    }

    /** The active session, for the data generators. */
    static SparkSession spark() {
        return SparkSession.active();
    }

    /** Schema {@code features: vector, label: double}. */
    static StructType vectorSchema() {
        return new StructType(new StructField[] {
            new StructField("features", SQLDataTypes.VectorType(), true, org.apache.spark.sql.types.Metadata.empty()),
            new StructField("label", DataTypes.DoubleType, true, org.apache.spark.sql.types.Metadata.empty())});
    }

    /**
     * {@code n} rows of {@code classes} Gaussian blobs in {@code dims} dimensions (centres 3 apart on
     * the axes, unit spread), labels {@code 0..classes-1} in turn, as {@code features: vector,
     * label: double} in {@code partitions} partitions of consecutive rows. Each row is a pure function
     * of its id and the seed, computed by Spark from {@code range}: a partition recomputed after a lost
     * executor holds the same rows in the same order, and no row object is shipped to the executors.
     */
    static Dataset<Row> blobs(int n, int classes, int dims, long seed, int partitions) {
        return spark().range(0, n, 1, partitions).map((MapFunction<Long, Row>) id -> {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            int c = (int) (id % classes);
            double[] x = new double[dims];
            for (int j = 0; j < dims; j++) {
                x[j] = gaussian(r) + (j % classes == c ? 3.0 : 0.0);
            }
            return RowFactory.create(Vectors.dense(x), (double) c);
        }, Encoders.row(vectorSchema()));
    }

    /** {@code n} rows of {@code y = 2·x0 - x1 + 0.5·x2 + small noise}, features as a vector, made as {@link #blobs}. */
    static Dataset<Row> linear(int n, long seed, int partitions) {
        return spark().range(0, n, 1, partitions).map((MapFunction<Long, Row>) id -> {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
            double[] x = {gaussian(r), gaussian(r), gaussian(r)};
            double y = 2 * x[0] - x[1] + 0.5 * x[2] + 0.01 * gaussian(r);
            return RowFactory.create(Vectors.dense(x), y);
        }, Encoders.row(vectorSchema()));
    }

    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
