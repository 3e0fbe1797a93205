package io.sparkgrad.spark.data;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The executor-side cache of decoded partitions: decode once, evict least recently used first, never fail. */
class DecodedCacheTest {
    @AfterEach
    void clear() {
        System.clearProperty("sparkgrad.decodedCacheBytes");
        DecodedCache.remove("t1");
        DecodedCache.remove("t2");
    }

    private static PartitionData rows(int n) {
        return new PartitionData(new ArrowCodec.Chunk(n, new float[n * 4], new long[n], null, null), 4);
    }

    @Test
    void decodesOnceAndEvictsTheLeastRecentlyUsed() {
        long one = rows(100).bytes();
        System.setProperty("sparkgrad.decodedCacheBytes", Long.toString(2 * one + 1));
        AtomicInteger decodes = new AtomicInteger();
        PartitionData a = DecodedCache.get(DecodedCache.key("t1", 0, 0), () -> {
            decodes.incrementAndGet();
            return rows(100);
        });
        assertSame(a, DecodedCache.get(DecodedCache.key("t1", 0, 0), () -> {
            decodes.incrementAndGet();
            return rows(100);
        }));
        assertEquals(1, decodes.get(), "the second read is a hit");
        DecodedCache.get(DecodedCache.key("t1", 1, 0), () -> rows(100));
        DecodedCache.get(DecodedCache.key("t1", 0, 0), () -> rows(100));
        DecodedCache.get(DecodedCache.key("t1", 2, 0), () -> rows(100));
        // Partition 1 was the least recently used: it went to make room for partition 2.
        assertSame(a, DecodedCache.get(DecodedCache.key("t1", 0, 0), () -> rows(100)));
        AtomicInteger again = new AtomicInteger();
        DecodedCache.get(DecodedCache.key("t1", 1, 0), () -> {
            again.incrementAndGet();
            return rows(100);
        });
        assertEquals(1, again.get(), "an evicted partition is decoded again");
    }

    @Test
    void aPartitionOverTheBudgetIsServedButNotKept() {
        System.setProperty("sparkgrad.decodedCacheBytes", "10");
        PartitionData first = DecodedCache.get(DecodedCache.key("t2", 0, 0), () -> rows(50));
        PartitionData second = DecodedCache.get(DecodedCache.key("t2", 0, 0), () -> rows(50));
        assertNotSame(first, second);
        assertEquals(50, second.rows());
    }

    @Test
    void removingADatasetDropsOnlyItsEntries() {
        DecodedCache.get(DecodedCache.key("t1", 0, 0), () -> rows(3));
        DecodedCache.get(DecodedCache.key("t2", 0, 0), () -> rows(3));
        int before = DecodedCache.size();
        DecodedCache.remove("t1");
        assertEquals(before - 1, DecodedCache.size());
    }

    @Test
    void theDefaultBudgetIsHalfOfWhatSparkLeavesToUserCode() {
        long oneGiB = 1L << 30;
        // 1 GiB less Spark's 300 MiB reserve is 724 MiB; Spark's default 0.6 of it leaves 289.6 MiB.
        long budget = DecodedCache.defaultBudget(oneGiB, 0.6);
        assertTrue(budget > (144L << 20) && budget < (145L << 20), "about 144.8 MiB, got " + (budget >> 20) + " MiB");
        assertTrue(DecodedCache.defaultBudget(oneGiB, 0.25) > budget, "a smaller Spark share leaves more for the cache");
        assertEquals(0, DecodedCache.defaultBudget(256L << 20, 0.6), "a heap below Spark's reserve leaves nothing");
        assertEquals(0, DecodedCache.defaultBudget(oneGiB, 1.0), "Spark taking everything leaves nothing");
    }
}
