package io.sparkgrad.spark.data;

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
 * <p>The budget is {@code -Dsparkgrad.decodedCacheBytes=N}, else 40% of the heap ({@code -Xmx}).
 */
public final class DecodedCache {
    private static final Logger LOG = LoggerFactory.getLogger(DecodedCache.class);
    private static final Map<String, PartitionData> ENTRIES = new LinkedHashMap<>(16, 0.75f, true);
    private static long bytes;
    private static boolean warnedTooBig;

    private DecodedCache() {
    }

    static long budget() {
        String p = System.getProperty("sparkgrad.decodedCacheBytes");
        return p != null ? Long.parseLong(p.trim()) : (long) (0.4 * Runtime.getRuntime().maxMemory());
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
