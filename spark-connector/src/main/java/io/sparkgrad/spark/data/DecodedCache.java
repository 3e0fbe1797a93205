package io.sparkgrad.spark.data;

import org.apache.spark.SparkEnv;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The executor-side (per JVM) cache of decoded partitions, so each step reads heap arrays instead
 * of decoding Arrow again: least recently used first out, within a byte budget. It is transient
 * by nature: a lost or evicted entry is decoded again from Spark's cached Arrow blocks, which are
 * themselves recomputed from lineage when lost, so it can never change a result.
 *
 * <p>The budget is {@code -Dsparkgrad.decodedCacheBytes=N}, else half of what Spark calls user
 * memory: the heap less Spark's 300 MiB reserve, times {@code 1 - spark.memory.fraction}. Spark
 * does not account for this cache, so it must come out of the share Spark leaves to user code; the
 * other half is for what running tasks hold (the partition being decoded, a replica's activations)
 * and, on {@code local[N]}, the driver. With a 1 GiB heap and Spark's defaults that is 145 MiB.
 */
public final class DecodedCache {
    private static final Logger LOG = LoggerFactory.getLogger(DecodedCache.class);
    private static final Map<String, PartitionData> ENTRIES = new LinkedHashMap<>(16, 0.75f, true);
    private static long bytes;
    private static boolean warnedTooBig;

    private DecodedCache() {
    }

    /** Spark's {@code RESERVED_SYSTEM_MEMORY_BYTES}: taken off the heap before either share. */
    private static final long SPARK_RESERVED_BYTES = 300L << 20;

    static long budget() {
        String p = System.getProperty("sparkgrad.decodedCacheBytes");
        if (p != null) {
            return Long.parseLong(p.trim());
        }
        SparkEnv env = SparkEnv.get();
        double sparkShare = env == null ? 0.6 : env.conf().getDouble("spark.memory.fraction", 0.6);
        return defaultBudget(Runtime.getRuntime().maxMemory(), sparkShare);
    }

    /** Half the user memory of a heap of {@code maxHeap} bytes when Spark takes {@code sparkShare}. */
    static long defaultBudget(long maxHeap, double sparkShare) {
        long usable = Math.max(0, maxHeap - SPARK_RESERVED_BYTES);
        return (long) (usable * Math.max(0, 1 - sparkShare) / 2);
    }

    /** The key of one partition's rows of one kind in one converted dataset. */
    public static String key(String datasetId, int partition, int kind) {
        return datasetId + "/" + partition + "/" + kind;
    }

    /** The cached entry for {@code key}, or {@code loader}'s result, kept when it fits the budget. */
    public static PartitionData get(String key, Supplier<PartitionData> loader) {
        synchronized (ENTRIES) {
            PartitionData d = ENTRIES.get(key);
            if (d != null) {
                return d;
            }
        }
        PartitionData loaded = loader.get();
        long size = loaded.bytes();
        long budget = budget();
        synchronized (ENTRIES) {
            PartitionData raced = ENTRIES.get(key);
            if (raced != null) {
                return raced;
            }
            if (size > budget) {
                if (!warnedTooBig) {
                    warnedTooBig = true;
                    LOG.warn("a decoded partition of {} MB is over the decoded-cache budget of {} MB, so it is decoded "
                            + "again every step: use more partitions or raise -Dsparkgrad.decodedCacheBytes",
                            size >> 20, budget >> 20);
                }
                return loaded;
            }
            Iterator<Map.Entry<String, PartitionData>> it = ENTRIES.entrySet().iterator();
            while (bytes + size > budget && it.hasNext()) {
                bytes -= it.next().getValue().bytes();
                it.remove();
            }
            ENTRIES.put(key, loaded);
            bytes += size;
            return loaded;
        }
    }

    /** Drops every entry of a dataset (called when training ends). */
    public static void remove(String datasetId) {
        synchronized (ENTRIES) {
            Iterator<Map.Entry<String, PartitionData>> it = ENTRIES.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<String, PartitionData> e = it.next();
                if (e.getKey().startsWith(datasetId + "/")) {
                    bytes -= e.getValue().bytes();
                    it.remove();
                }
            }
        }
    }

    /** Entries held now (for tests and logs). */
    public static int size() {
        synchronized (ENTRIES) {
            return ENTRIES.size();
        }
    }
}
