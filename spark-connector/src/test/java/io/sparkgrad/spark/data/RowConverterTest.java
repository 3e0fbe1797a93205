package io.sparkgrad.spark.data;

import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Row checks and conversion, on rows as Spark hands them to a partition (no Spark needed). */
class RowConverterTest {
    private static DataLayout vectorLayout(int d, int classes, boolean weights, boolean skip) {
        return new DataLayout(DataLayout.FeatureSource.VECTOR, new String[] {"features"}, d, "label", classes,
                weights ? "w" : null, skip);
    }

    private static List<ArrowBlock> convert(DataLayout layout, List<Row> rows, int partition) {
        List<ArrowBlock> out = new ArrayList<>();
        new RowConverter(layout, 0, 1).call(partition, rows.iterator()).forEachRemaining(out::add);
        return out;
    }

    private static PartitionData decoded(DataLayout layout, List<ArrowBlock> blocks, int kind) {
        Iterator<ArrowBlock> it = blocks.iterator();
        return PartitionData.decode(it, kind, layout);
    }

    @Test
    void denseAndSparseVectorsBecomeOneFeatureMatrix() {
        DataLayout layout = vectorLayout(3, 2, false, false);
        List<ArrowBlock> blocks = convert(layout, List.of(
                RowFactory.create(Vectors.dense(1, 2, 3), 1.0),
                RowFactory.create(Vectors.sparse(3, new int[] {1}, new double[] {5}), 0.0)), 0);
        ArrowBlock summary = blocks.get(blocks.size() - 1);
        assertTrue(summary.isSummary());
        assertEquals(2, summary.trainRows());
        PartitionData d = decoded(layout, blocks, ArrowBlock.TRAIN);
        int[] all = d.identity();
        assertArrayEquals(new float[] {1, 2, 3, 0, 5, 0}, d.features(all, 0, 2, null).toFloatArray());
        assertArrayEquals(new long[] {1, 0}, d.labels(all, 0, 2).toLongArray());
    }

    @Test
    void arraysAndNumericColumnsWorkToo() {
        DataLayout arrays = new DataLayout(DataLayout.FeatureSource.ARRAY, new String[] {"a"}, 2, "y", 0, "w", false);
        List<Object> values = Arrays.asList(1.5f, -2f);
        PartitionData d = decoded(arrays, convert(arrays, List.of(
                RowFactory.create(scala.jdk.javaapi.CollectionConverters.asScala(values).toSeq(), 0.25, 2.0)), 0),
                ArrowBlock.TRAIN);
        int[] all = d.identity();
        assertArrayEquals(new float[] {1.5f, -2f}, d.features(all, 0, 1, null).toFloatArray());
        assertArrayEquals(new float[] {0.25f}, d.labels(all, 0, 1).toFloatArray());
        assertArrayEquals(new float[] {2f}, d.weights(all, 0, 1).toFloatArray());

        DataLayout columns = new DataLayout(DataLayout.FeatureSource.COLUMNS, new String[] {"a", "b", "c"}, 3, "y", 3,
                null, false);
        PartitionData c = decoded(columns, convert(columns, List.of(RowFactory.create(1, 2L, 3.5, 2)), 0),
                ArrowBlock.TRAIN);
        assertArrayEquals(new float[] {1, 2, 3.5f}, c.features(c.identity(), 0, 1, null).toFloatArray());
        assertArrayEquals(new long[] {2}, c.labels(c.identity(), 0, 1).toLongArray());
    }

    private static InvalidRowException rejected(DataLayout layout, Row bad) {
        List<Row> rows = List.of(RowFactory.create(Vectors.dense(1, 2), 1.0, 1.0), bad);
        return assertThrows(InvalidRowException.class, () -> convert(layout, rows, 4));
    }

    @Test
    void errorsNameTheColumnTheProblemThePartitionAndTheRow() {
        DataLayout layout = vectorLayout(2, 3, true, false);
        InvalidRowException e = rejected(layout, RowFactory.create(Vectors.dense(1, 2, 3), 1.0, 1.0));
        assertEquals("features", e.column());
        assertEquals(InvalidReason.WRONG_FEATURE_LENGTH, e.reason());
        assertEquals(4, e.partition());
        assertEquals(1, e.row());
        assertTrue(e.getMessage().contains("invalid row 1 of partition 4: column 'features' has 3 values, expected 2"),
                e.getMessage());
        assertTrue(e.getMessage().contains("handleInvalid"), e.getMessage());

        assertEquals(InvalidReason.NULL_FEATURES, rejected(layout, RowFactory.create(null, 1.0, 1.0)).reason());
        InvalidRowException nan = rejected(layout, RowFactory.create(Vectors.dense(1, Double.NaN), 1.0, 1.0));
        assertEquals(InvalidReason.NON_FINITE_FEATURE, nan.reason());
        assertTrue(nan.getMessage().contains("NaN at index 1"), nan.getMessage());
        InvalidRowException range = rejected(layout, RowFactory.create(Vectors.dense(1, 2), 3.0, 1.0));
        assertEquals("label", range.column());
        assertEquals(InvalidReason.LABEL_OUT_OF_RANGE, range.reason());
        assertTrue(range.getMessage().contains("is 3.0, expected an integer class index in [0, 3)"), range.getMessage());
        assertEquals(InvalidReason.LABEL_OUT_OF_RANGE, rejected(layout, RowFactory.create(Vectors.dense(1, 2), 0.5, 1.0))
                .reason());
        assertEquals(InvalidReason.NULL_LABEL, rejected(layout, RowFactory.create(Vectors.dense(1, 2), null, 1.0)).reason());
        InvalidRowException w = rejected(layout, RowFactory.create(Vectors.dense(1, 2), 1.0, -1.0));
        assertEquals("w", w.column());
        assertEquals(InvalidReason.INVALID_WEIGHT, w.reason());
    }

    @Test
    void skipDropsAndCountsEachReason() {
        DataLayout layout = vectorLayout(2, 3, false, true);
        List<Row> rows = List.of(
                RowFactory.create(Vectors.dense(1, 2), 1.0),
                RowFactory.create(null, 1.0),
                RowFactory.create(Vectors.dense(1, Double.POSITIVE_INFINITY), 1.0),
                RowFactory.create(Vectors.dense(1), 1.0),
                RowFactory.create(Vectors.dense(1, 2), 7.0),
                RowFactory.create(Vectors.dense(1, 2), Double.NaN),
                RowFactory.create(Vectors.dense(3, 4), 2.0));
        List<ArrowBlock> blocks = convert(layout, rows, 0);
        ArrowBlock s = blocks.get(blocks.size() - 1);
        assertEquals(2, s.trainRows());
        assertEquals(1, s.skipped(InvalidReason.NULL_FEATURES));
        assertEquals(1, s.skipped(InvalidReason.NON_FINITE_FEATURE));
        assertEquals(1, s.skipped(InvalidReason.WRONG_FEATURE_LENGTH));
        assertEquals(1, s.skipped(InvalidReason.LABEL_OUT_OF_RANGE));
        assertEquals(1, s.skipped(InvalidReason.NON_FINITE_LABEL));
        PartitionData d = decoded(layout, blocks, ArrowBlock.TRAIN);
        assertArrayEquals(new float[] {1, 2, 3, 4}, d.features(d.identity(), 0, 2, null).toFloatArray());
    }

    @Test
    void theValidationShareIsHeldOutTheSameWayEveryTime() {
        DataLayout layout = vectorLayout(1, 2, false, false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            rows.add(RowFactory.create(Vectors.dense(i), (double) (i % 2)));
        }
        RowConverter conv = new RowConverter(layout, 0.25, 42);
        List<ArrowBlock> a = new ArrayList<>();
        conv.call(3, rows.iterator()).forEachRemaining(a::add);
        List<ArrowBlock> b = new ArrayList<>();
        conv.call(3, rows.iterator()).forEachRemaining(b::add);
        ArrowBlock s = a.get(a.size() - 1);
        assertEquals(2000, s.trainRows() + s.validationRows());
        assertEquals(500, s.validationRows(), 60, "about a quarter held out");
        PartitionData va = decoded(layout, a, ArrowBlock.VALIDATION);
        PartitionData vb = decoded(layout, b, ArrowBlock.VALIDATION);
        assertArrayEquals(va.features(va.identity(), 0, va.rows(), null).toFloatArray(),
                vb.features(vb.identity(), 0, vb.rows(), null).toFloatArray());
    }

    @Test
    void largePartitionsAreCutIntoSeveralChunks() {
        int d = 1 << 12;
        DataLayout layout = vectorLayout(d, 2, false, false);
        int rows = RowConverter.chunkRows(d) * 2 + 3;
        List<Row> list = new ArrayList<>();
        double[] x = new double[d];
        for (int i = 0; i < rows; i++) {
            x[0] = i;
            list.add(RowFactory.create(Vectors.dense(x.clone()), (double) (i % 2)));
        }
        List<ArrowBlock> blocks = convert(layout, list, 0);
        assertEquals(4, blocks.size(), "three chunks and the summary");
        PartitionData all = decoded(layout, blocks, ArrowBlock.TRAIN);
        assertEquals(rows, all.rows());
        float[] f = all.features(all.identity(), rows - 1, rows, null).toFloatArray();
        assertEquals(rows - 1, f[0]);
    }

    @Test
    void chunksAreMadeAsTheyAreAskedForNotAllAtOnce() {
        int d = 1 << 12;
        int chunkRows = RowConverter.chunkRows(d);
        DataLayout layout = vectorLayout(d, 2, false, false);
        int rows = 3 * chunkRows + 5;
        int[] read = {0};
        Iterator<Row> source = new Iterator<>() {
            @Override
            public boolean hasNext() {
                return read[0] < rows;
            }

            @Override
            public Row next() {
                return RowFactory.create(Vectors.sparse(d, new int[] {0}, new double[] {read[0]++}), 1.0);
            }
        };
        Iterator<ArrowBlock> blocks = new RowConverter(layout, 0, 1).call(0, source);
        ArrowBlock first = blocks.next();
        assertEquals(chunkRows, first.rows());
        assertEquals(chunkRows, read[0], "only the first chunk's rows were read to make it");
        assertTrue(first.ipc().length <= RowConverter.CHUNK_BYTES, "a full chunk of " + first.ipc().length
                + " bytes fits in " + RowConverter.CHUNK_BYTES);
        int chunks = 1;
        ArrowBlock last = first;
        while (blocks.hasNext()) {
            last = blocks.next();
            chunks++;
        }
        assertTrue(last.isSummary(), "the summary comes last");
        assertEquals(rows, last.trainRows());
        assertEquals(5, chunks, "four chunks and the summary");
        assertThrows(java.util.NoSuchElementException.class, blocks::next);
    }

    @Test
    void rowsSpreadOverChunksKeepTheirFeaturesTargetsAndWeights() {
        int d = 1 << 11;
        DataLayout layout = new DataLayout(DataLayout.FeatureSource.VECTOR, new String[] {"features"}, d, "y", 0, "w",
                false);
        int rows = 2 * RowConverter.chunkRows(d) + 7;
        List<Row> list = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            list.add(RowFactory.create(Vectors.sparse(d, new int[] {0, d - 1}, new double[] {i, -i}), i * 0.5,
                    1.0 + i % 3));
        }
        List<ArrowBlock> blocks = convert(layout, list, 0);
        for (ArrowBlock b : blocks) {
            assertTrue(b.isSummary() || b.ipc().length <= RowConverter.CHUNK_BYTES, () -> b.ipc().length + " bytes");
        }
        PartitionData data = decoded(layout, blocks, ArrowBlock.TRAIN);
        assertEquals(rows, data.rows());
        int[] order = PartitionData.shuffledOrder(rows, 3, 0, 0);
        float[] x = data.features(order, 0, rows, null).toFloatArray();
        float[] y = data.labels(order, 0, rows).toFloatArray();
        float[] w = data.weights(order, 0, rows).toFloatArray();
        double weightSum = 0;
        for (int i = 0; i < rows; i++) {
            int r = order[i];
            assertEquals(r, x[i * d], "row " + r + "'s first feature");
            assertEquals(-r, x[i * d + d - 1], "row " + r + "'s last feature");
            assertEquals(r * 0.5f, y[i], "row " + r + "'s target");
            assertEquals(1 + r % 3, w[i], "row " + r + "'s weight");
            weightSum += 1 + r % 3;
        }
        assertEquals(weightSum, data.weightSum(order, 0, rows));
    }

    @Test
    void aBatchTooBigForOneJavaArrayIsRefusedByItsShape() {
        int d = 1 << 30;
        PartitionData data = new PartitionData(new ArrowCodec.Chunk(1, new float[0], new long[1], null, null), d);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> data.features(new int[] {0, 0, 0, 0}, 0, 4, null));
        assertTrue(e.getMessage().contains("4 rows × 1073741824 features"), e.getMessage());
    }

    @Test
    void eachEpochHasItsOwnFixedOrder() {
        int[] a = PartitionData.shuffledOrder(100, 7, 0, 1);
        assertArrayEquals(a, PartitionData.shuffledOrder(100, 7, 0, 1));
        assertTrue(!Arrays.equals(a, PartitionData.shuffledOrder(100, 7, 1, 1)), "another epoch");
        assertTrue(!Arrays.equals(a, PartitionData.shuffledOrder(100, 7, 0, 2)), "another partition");
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 100; i++) {
            assertEquals(i, sorted[i]);
        }
    }
}
