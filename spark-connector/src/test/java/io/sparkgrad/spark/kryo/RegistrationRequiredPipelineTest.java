package io.sparkgrad.spark.kryo;

import io.sparkgrad.spark.train.DistributedTrainer;
import io.sparkgrad.spark.train.OptimizerSpec;
import io.sparkgrad.spark.train.SparkTestSupport;
import io.sparkgrad.spark.train.TrainerConfig;
import io.sparkgrad.spark.train.TrainingResult;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The everyday pipeline of a training job, under {@code spark.kryo.registrationRequired=true} with
 * only our registrator: write a DataFrame ({@code features: array<float>, label: long, y: double})
 * to Parquet, read it back with schema inference, collect a few rows, and fit the trainer on it; the
 * same with the features assembled into a vector column. Schema inference sends the file's schema
 * through Kryo: Spark's type classes, and the column metadata (VectorAssembler's, a {@code Metadata[]}).
 */
class RegistrationRequiredPipelineTest {
    private static final int D = 4;
    private static final int CLASSES = 3;
    private static final int N = 240;
    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("RegistrationRequiredPipelineTest");
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    /** {@code features: array<float>, label: long, y: double} in Parquet under {@code name}, read back. */
    private static Dataset<Row> writeAndRead(String name) {
        SparkTestSupport.Blobs blobs = new SparkTestSupport.Blobs(D, CLASSES, 0.3, 17);
        float[] x = blobs.featureMatrix(0, N);
        long[] labels = blobs.labels(0, N);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            float[] f = new float[D];
            System.arraycopy(x, i * D, f, 0, D);
            rows.add(RowFactory.create(f, labels[i], (double) labels[i]));
        }
        StructType schema = new StructType()
                .add("features", DataTypes.createArrayType(DataTypes.FloatType), false)
                .add("label", DataTypes.LongType, false)
                .add("y", DataTypes.DoubleType, false);
        String dir = tmp.resolve(name).toUri().toString();
        spark.createDataFrame(rows, schema).repartition(2).write().parquet(dir);
        return spark.read().parquet(dir);
    }

    private static TrainerConfig.Builder config() {
        return TrainerConfig.builder().model(SparkTestSupport.mlp(D, 8, CLASSES)).numClasses(CLASSES)
                .optimizer(OptimizerSpec.adam(0.05)).batchSize(40).localSteps(1).maxEpochs(3).seed(2)
                .validationFraction(0.2);
    }

    @Test
    void writeReadCollectAndFitParquet() {
        assertEquals("true", spark.conf().get("spark.kryo.registrationRequired"));
        Dataset<Row> read = writeAndRead("blobs.parquet");
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType), read.schema().apply("features").dataType());
        assertEquals(DataTypes.LongType, read.schema().apply("label").dataType());
        assertEquals(DataTypes.DoubleType, read.schema().apply("y").dataType());
        assertEquals(N, read.count());
        List<Row> few = read.orderBy("y").limit(3).collectAsList();
        assertEquals(3, few.size());
        assertEquals(0.0, few.get(0).getDouble(2));
        assertEquals(D, few.get(0).getList(0).size());

        TrainingResult r = DistributedTrainer.fit(read, config().build());
        assertEquals(D, r.numFeatures());
        assertEquals(3, r.history().size());
        assertTrue(r.history().get(2).validationMetric() > 0.8, r.history().toString());
    }

    /** Features assembled into a vector column (with VectorAssembler's ml_attr metadata), saved and read back. */
    @Test
    void vectorFeaturesWithMetadataThroughParquet() {
        Dataset<Row> read = writeAndRead("arrays.parquet");
        String[] names = new String[D];
        for (int j = 0; j < D; j++) {
            names[j] = "x" + j;
            read = read.withColumn(names[j], functions.col("features").getItem(j));
        }
        String dir = tmp.resolve("vectors.parquet").toUri().toString();
        new VectorAssembler().setInputCols(names).setOutputCol("vec").transform(read).select("vec", "y")
                .write().parquet(dir);

        Dataset<Row> vectors = spark.read().parquet(dir);
        assertEquals(SQLDataTypes.VectorType(), vectors.schema().apply("vec").dataType());
        assertTrue(vectors.schema().apply("vec").metadata().contains("ml_attr"));
        assertEquals(D, ((Vector) vectors.limit(1).collectAsList().get(0).get(0)).size());
        TrainingResult r = DistributedTrainer.fit(vectors, config().featuresCol("vec").labelCol("y").build());
        assertEquals(D, r.numFeatures());
        assertTrue(r.history().get(2).validationMetric() > 0.8, r.history().toString());
    }

    /**
     * A data set partitioned into more folders than {@code spark.sql.sources.parallelPartitionDiscovery.threshold}
     * (32): Spark lists them in a job whose tasks send back Hadoop file statuses.
     */
    @Test
    void aDirectoryOfManyPartitionFolders() {
        int folders = 40;
        String dir = tmp.resolve("by-day.parquet").toUri().toString();
        writeAndRead("flat.parquet").withColumn("day", functions.col("label").plus(
                functions.monotonically_increasing_id().mod(folders / CLASSES + 1).multiply(CLASSES)))
                .write().partitionBy("day").parquet(dir);
        Dataset<Row> read = spark.read().parquet(dir);
        assertTrue(read.select("day").distinct().count() > 32, "more partition folders than the listing threshold");
        assertEquals(N, read.count());
        TrainingResult r = DistributedTrainer.fit(read, config().build());
        assertTrue(r.history().get(2).validationMetric() > 0.8, r.history().toString());
    }
}
