package io.sparkgrad.io;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Storage for untrusted claims grows with the data, never past the claim, and keeps what was filled. */
class GrowingStorageTest {

    @Test
    void capacityDoublesWithTheDataAndStopsAtTheClaim() {
        GrowingStorage s = new GrowingStorage(DType.INT64, 1000, 100);
        assertEquals(100, s.capacity());
        s.reserve(100);
        assertEquals(100, s.capacity(), "no growth while the data fits");
        s.reserve(101);
        assertEquals(200, s.capacity());
        s.reserve(450);
        assertEquals(450, s.capacity(), "grows to what is needed when that is more than double");
        s.reserve(451);
        assertEquals(900, s.capacity());
        s.reserve(901);
        assertEquals(1000, s.capacity(), "never beyond the claim");
        assertEquals(1000, s.longs().length);
    }

    @Test
    void aHugeClaimAllocatesOnlyTheInitialChunk() {
        GrowingStorage s = new GrowingStorage(DType.FLOAT64, Integer.MAX_VALUE, 16);
        assertEquals(16, s.doubles().length);
        s.reserve(20);
        assertEquals(32, s.doubles().length);
    }

    @Test
    void valuesSurviveGrowthAndBecomeATensor() {
        GrowingStorage s = new GrowingStorage(DType.FLOAT32, 6, 2);
        s.floats()[0] = 1;
        s.floats()[1] = 2;
        s.reserve(4);
        s.floats()[2] = 3;
        s.floats()[3] = 4;
        s.reserve(6);
        s.floats()[4] = 5;
        s.floats()[5] = 6;
        Tensor t = s.toTensor(new int[] {2, 3});
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        assertArrayEquals(new int[] {2, 3}, t.shape());
    }

    @Test
    void misuseIsRefused() {
        GrowingStorage s = new GrowingStorage(DType.FLOAT32, 6, 2);
        assertThrows(IllegalArgumentException.class, () -> s.reserve(7));
        assertThrows(IllegalStateException.class, () -> s.toTensor(new int[] {6}), "not all elements have arrived");
        s.reserve(6);
        assertThrows(IllegalStateException.class, () -> s.toTensor(new int[] {5}));
        assertThrows(IllegalArgumentException.class, () -> new GrowingStorage(DType.FLOAT32, 3, 4));
    }
}
