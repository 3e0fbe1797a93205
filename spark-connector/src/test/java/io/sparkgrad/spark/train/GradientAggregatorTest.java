package io.sparkgrad.spark.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The aggregator's laws: merging is a sum, and its result does not depend on merge order or grouping. */
class GradientAggregatorTest {
    private static float[][] vectors(int partitions, int length, long seed) {
        Random r = new Random(seed);
        float[][] v = new float[partitions][length];
        for (float[] row : v) {
            for (int i = 0; i < length; i++) {
                // Wide exponent range, so float sums really depend on their order.
                row[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
            }
        }
        return v;
    }

    private static GradientAggregator leaf(float[][] v, int p) {
        return GradientAggregator.leaf(p, v[p].clone(), p + 0.1, 10 + p, 10 + p, p * 0.5, 1000L * p);
    }

    /** Merges the leaves in a random order and grouping: random pairs of partial aggregators, as a shuffle might. */
    private static GradientAggregator.Sums randomTree(float[][] v, Random r) {
        List<GradientAggregator> parts = new ArrayList<>();
        for (int p = 0; p < v.length; p++) {
            parts.add(leaf(v, p));
        }
        Collections.shuffle(parts, r);
        while (parts.size() > 1) {
            int i = r.nextInt(parts.size());
            GradientAggregator a = parts.remove(i);
            int j = r.nextInt(parts.size());
            GradientAggregator b = parts.remove(j);
            GradientAggregator merged = r.nextBoolean() ? a.merge(b) : new GradientAggregator().merge(b).merge(a);
            parts.add(merged);
        }
        return new GradientAggregator().merge(parts.get(0)).finish();
    }

    @Test
    void anyMergeOrderGivesBitIdenticalSums() {
        for (int partitions : new int[] {1, 2, 3, 5, 7, 8, 13}) {
            float[][] v = vectors(partitions, 257, partitions);
            GradientAggregator.Sums first = randomTree(v, new Random(1));
            for (int trial = 2; trial < 40; trial++) {
                GradientAggregator.Sums s = randomTree(v, new Random(trial));
                assertArrayEquals(first.vector, s.vector, "partitions=" + partitions + " trial " + trial);
                assertEquals(first.loss, s.loss);
                assertEquals(first.weight, s.weight);
                assertEquals(first.rows, s.rows);
                assertEquals(first.metric, s.metric);
                assertEquals(1000L * (partitions - 1), s.computeNanos, "the slowest task's time");
                assertEquals(1000L * partitions * (partitions - 1) / 2, s.totalComputeNanos, "all tasks' time");
            }
        }
    }

    @Test
    void theSumIsTheSum() {
        int partitions = 7;
        float[][] v = vectors(partitions, 100, 3);
        GradientAggregator.Sums s = randomTree(v, new Random(5));
        for (int i = 0; i < 100; i++) {
            double exact = 0;
            double magnitude = 0;
            for (float[] row : v) {
                exact += row[i];
                magnitude += Math.abs(row[i]);
            }
            assertEquals(exact, s.vector[i], 1e-6 * magnitude + 1e-30, "element " + i);
        }
        double loss = 0;
        for (int p = 0; p < partitions; p++) {
            loss += p + 0.1;
        }
        assertEquals(loss, s.loss, 1e-12);
        assertEquals(partitions * 10 + 21, s.rows);
    }

    @Test
    void emptyPartitionsCountAsZeros() {
        float[][] v = vectors(4, 8, 9);
        GradientAggregator a = new GradientAggregator();
        a.merge(GradientAggregator.leaf(0, v[0].clone(), 1, 1, 1, 0, 0));
        a.merge(GradientAggregator.leaf(1, null, 0, 0, 0, 0, 0));
        a.merge(GradientAggregator.leaf(2, null, 0, 0, 0, 0, 0));
        a.merge(GradientAggregator.leaf(3, v[3].clone(), 2, 2, 2, 0, 0));
        GradientAggregator.Sums s = a.finish();
        for (int i = 0; i < 8; i++) {
            assertEquals(v[0][i] + v[3][i], s.vector[i]);
        }
        assertNull(new GradientAggregator().finish().vector, "the zero value has no buffer");
        assertNull(new GradientAggregator().merge(GradientAggregator.leaf(0, null, 0, 0, 0, 0, 0)).finish().vector);
    }

    @Test
    void aPartitionCountedTwiceIsAnError() {
        GradientAggregator a = GradientAggregator.leaf(3, new float[] {1}, 0, 1, 1, 0, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> a.merge(GradientAggregator.leaf(3, new float[] {1}, 0, 1, 1, 0, 0)));
        assertTrue(e.getMessage().contains("counted twice"), e.getMessage());
    }

    @Test
    void inOrderMergesHoldFewBlocks() {
        int partitions = 64;
        float[][] v = vectors(partitions, 4, 2);
        GradientAggregator a = new GradientAggregator();
        for (int p = 0; p < partitions; p++) {
            a.merge(leaf(v, p));
            assertTrue(a.blockCount() <= 7, "at most log2(64)+1 blocks, got " + a.blockCount());
        }
        assertEquals(1, a.blockCount(), "64 leaves combine into one block");
    }
}
