package io.sparkgrad.spark.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArrowCodecTest {
    private static float[] floats(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i - n / 3f) * scale;
        }
        return v;
    }

    @Test
    void classificationWithWeightsRoundTrips() {
        int rows = 37;
        int d = 5;
        float[] x = floats(rows * d, 0.37f);
        long[] y = new long[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = i % 4;
        }
        float[] w = floats(rows, 0.5f);
        byte[] ipc = ArrowCodec.encode(rows, d, x, y, null, w);
        ArrowCodec.Chunk c = ArrowCodec.decode(ipc, d, true, true);
        assertEquals(rows, c.rows());
        assertArrayEquals(x, c.features());
        assertArrayEquals(y, c.classes());
        assertArrayEquals(w, c.weights());
        assertNull(c.targets());
    }

    @Test
    void regressionRoundTripsAndUsesOnlyTheFilledPart() {
        int rows = 3;
        float[] x = floats(2 * rows + 10, 1.5f);
        float[] t = floats(rows + 4, -2f);
        ArrowCodec.Chunk c = ArrowCodec.decode(ArrowCodec.encode(rows, 2, x, null, t, null), 2, false, false);
        assertArrayEquals(java.util.Arrays.copyOf(x, 6), c.features());
        assertArrayEquals(java.util.Arrays.copyOf(t, 3), c.targets());
        assertNull(c.weights());
        assertNull(c.classes());
    }

    @Test
    void chunksConcatenateInOrder() {
        ArrowCodec.Chunk a = ArrowCodec.decode(ArrowCodec.encode(2, 1, new float[] {1, 2}, new long[] {0, 1}, null, null),
                1, true, false);
        ArrowCodec.Chunk b = ArrowCodec.decode(ArrowCodec.encode(1, 1, new float[] {3}, new long[] {1}, null, null), 1,
                true, false);
        ArrowCodec.Chunk all = ArrowCodec.concat(List.of(a, b), 3, 1, true, false);
        assertArrayEquals(new float[] {1, 2, 3}, all.features());
        assertArrayEquals(new long[] {0, 1, 1}, all.classes());
    }

    @Test
    void aStreamOfAnotherLayoutIsRejected() {
        byte[] ipc = ArrowCodec.encode(2, 3, floats(6, 1), new long[] {0, 1}, null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ArrowCodec.decode(ipc, 4, true, false));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("schema"), e.getMessage());
    }
}
