package io.sparkgrad.spark.data;

import io.sparkgrad.spark.train.SparkTestSupport;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The data path on real Spark: schema resolution, one conversion job, caching, counts, errors from executors. */
class ConvertedDataTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTestSupport.session("ConvertedDataTest");
    }

    @AfterAll
    static void stop() {
        SparkTestSupport.stop(spark);
    }

    @Test
    void aDataFrameIsConvertedOnceCachedAndCounted() {
        Dataset<Row> df = new SparkTestSupport.Blobs(4, 3, 1, 5).frame(spark, 1000, 3);
        DataLayout layout = DataLayout.resolve(df, "features", null, "label", 3, null, false);
        assertEquals(4, layout.numFeatures(), "from the first row");
        ConvertedData data = ConvertedData.convert(df, layout, 0.1, 7, "test");
        try {
            assertEquals(3, data.numPartitions());
            assertEquals(StorageLevel.MEMORY_AND_DISK(), data.blocks().getStorageLevel());
            assertEquals(1000, data.totalTrainRows() + data.totalValidationRows());
            assertEquals(100, data.totalValidationRows(), 30);
            assertTrue(data.skippedByReason().isEmpty());
            long[] perPartition = data.trainRows();
            String id = data.id();
            // Decoding on the executors: each partition's rows once, the same arrays on a second read.
            List<Long> rows = data.blocks().mapPartitionsWithIndex((p, it) -> {
                PartitionData a = ConvertedData.partition(id, layout, p, ArrowBlock.TRAIN, it);
                PartitionData b = ConvertedData.partition(id, layout, p, ArrowBlock.TRAIN, java.util.Collections.emptyIterator());
                return List.of(a == b ? (long) a.rows() : -1L).iterator();
            }, true).collect();
            assertEquals(List.of(perPartition[0], perPartition[1], perPartition[2]), rows);
        } finally {
            data.release();
        }
        assertEquals(StorageLevel.NONE(), data.blocks().getStorageLevel(), "released");
    }

    @Test
    void featureCountComesFromVectorAssemblerMetadata() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            rows.add(RowFactory.create((double) i, i * 2.0, (double) (i % 2)));
        }
        Dataset<Row> raw = spark.createDataFrame(rows, new org.apache.spark.sql.types.StructType()
                .add("a", "double").add("b", "double").add("label", "double"));
        Dataset<Row> df = new VectorAssembler().setInputCols(new String[] {"a", "b"}).setOutputCol("features")
                .transform(raw);
        DataLayout layout = DataLayout.resolve(df, "features", null, "label", 2, null, false);
        assertEquals(2, layout.numFeatures());
        assertEquals(DataLayout.FeatureSource.VECTOR, layout.source());
        ConvertedData data = ConvertedData.convert(df, layout, 0, 1, "assembled");
        try {
            assertEquals(10, data.totalTrainRows());
        } finally {
            data.release();
        }
    }

    @Test
    void columnsOfTheWrongKindAreNamed() {
        Dataset<Row> df = new SparkTestSupport.Blobs(2, 2, 1, 5).frame(spark, 10, 1)
                .withColumn("text", functions.lit("x"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataLayout.resolve(df, "text", null, "label", 2, null, false));
        assertTrue(e.getMessage().contains("features column 'text' has type string"), e.getMessage());
        IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                () -> DataLayout.resolve(df, "features", null, "text", 2, null, false));
        assertTrue(l.getMessage().contains("label column 'text'"), l.getMessage());
        IllegalArgumentException w = assertThrows(IllegalArgumentException.class,
                () -> DataLayout.resolve(df, "features", null, "label", 2, "nope", false));
        assertTrue(w.getMessage().contains("weight column 'nope' does not exist"), w.getMessage());
    }

    @Test
    void anInvalidRowOnAnExecutorComesBackAsItself() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            rows.add(RowFactory.create(Vectors.dense(i, 1), i == 4 ? 9.0 : 1.0));
        }
        Dataset<Row> df = spark.createDataFrame(rows, SparkTestSupport.vectorSchema()).coalesce(1);
        DataLayout layout = DataLayout.resolve(df, "features", null, "label", 3, null, false);
        InvalidRowException e = assertThrows(InvalidRowException.class,
                () -> ConvertedData.convert(df, layout, 0, 1, "bad"));
        assertEquals("label", e.column());
        assertEquals(0, e.partition());
        assertEquals(4, e.row());
        assertEquals(1, e.getSuppressed().length, "the Spark job failure is attached");
    }
}
