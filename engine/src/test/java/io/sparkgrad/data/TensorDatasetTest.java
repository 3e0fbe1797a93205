package io.sparkgrad.data;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A dataset is its tensors' rows, whatever their layout, and refuses tensors that disagree on the row count. */
class TensorDatasetTest {

    @Test
    void rowsAreGatheredInTheOrderAsked() {
        Tensor x = Tensor.arange(0, 12, 1, DType.FLOAT32).reshape(4, 3);
        Tensor y = Tensor.of(new long[] {10, 11, 12, 13}, 4);
        TensorDataset ds = new TensorDataset(x, y);
        assertEquals(4, ds.size());
        assertEquals(2, ds.tensorCount());
        assertSame(x, ds.tensor(0));
        List<Tensor> rows = ds.rows(3, 0, 3);
        assertArrayEquals(new int[] {3, 3}, rows.get(0).shape());
        assertArrayEquals(new float[] {9, 10, 11, 0, 1, 2, 9, 10, 11}, rows.get(0).toFloatArray());
        assertArrayEquals(new long[] {13, 10, 13}, rows.get(1).toLongArray());
        assertEquals(0, ds.rows().get(0).size(0));
    }

    @Test
    void nonContiguousTensorsGiveTheirLogicalRows() {
        Tensor base = Tensor.arange(0, 12, 1, DType.FLOAT64).reshape(3, 4);
        TensorDataset ds = new TensorDataset(base.t(), base.select(0, 1).unsqueeze(1).expand(4, 2));
        assertArrayEquals(new double[] {2, 6, 10, 0, 4, 8}, ds.rows(2, 0).get(0).toDoubleArray());
        assertArrayEquals(new double[] {4, 4, 7, 7}, ds.rows(0, 3).get(1).toDoubleArray());
    }

    @Test
    void aRowCountMismatchNamesBothTensors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TensorDataset(Tensor.zeros(10, 1, 28, 28), Tensor.zeros(DType.INT64, 9)));
        assertEquals("TensorDataset: tensor 1 has 9 rows (shape [9]) but tensor 0 has 10 (shape [10, 1, 28, 28]);"
                + " every tensor needs one row per example", e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TensorDataset(Tensor.scalar(1)))
                .getMessage().contains("0-dimensional"));
        assertThrows(IllegalArgumentException.class, TensorDataset::new);
    }

    @Test
    void anOutOfRangeRowIsRefused() {
        TensorDataset ds = new TensorDataset(Tensor.zeros(3, 2));
        assertEquals("row 3 is out of range for a dataset of 3 rows",
                assertThrows(IndexOutOfBoundsException.class, () -> ds.rows(0, 3)).getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> ds.rows(-1));
    }

    @Test
    void anEmptyDatasetHasNoBatches() {
        TensorDataset ds = new TensorDataset(Tensor.zeros(0, 5), Tensor.zeros(DType.INT64, 0));
        assertEquals(0, ds.size());
        DataLoader loader = DataLoader.builder(ds).batchSize(4).shuffle(1).build();
        assertEquals(0, loader.numBatches());
        assertTrue(!loader.epoch(0).iterator().hasNext());
        assertTrue(ds.toString().contains("0 examples"), ds.toString());
    }
}
