package io.sparkgrad.spark.data;

import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A DataFrame converted, once, into columnar batches that training steps read without touching a
 * row again: each partition becomes a few Arrow record batches ({@link ArrowCodec}: a
 * {@code FixedSizeList<Float4>} of features, a {@code BigInt} class or {@code Float4} target, a
 * {@code Float4} weight), cached by Spark with {@code MEMORY_AND_DISK}, and decoded once per
 * executor into the heap arrays engine tensors wrap ({@link DecodedCache}).
 *
 * <h2>Why Spark caches IPC bytes, not Arrow vectors</h2>
 * Arrow vectors live off the Java heap in buffers owned by an allocator that must be closed.
 * Spark's block manager cannot work with such objects: it sizes cached values by walking the heap
 * (it would see a few hundred bytes for a 100 MB batch, so memory accounting and eviction would be
 * wrong), it spills to disk by serializing them (Kryo cannot serialize an {@code ArrowBuf}), and it
 * drops evicted blocks without closing anything (the off-heap memory would leak). An Arrow IPC
 * stream is a {@code byte[]}: measured exactly, spilled and read back by Spark like any other
 * block, re-sent to another executor when a task moves, and recomputed from lineage when an
 * executor is lost. The cost is one decode per partition per executor into heap arrays, which is
 * also the form the engine computes on (its tensors are heap {@code float[]}), so the decoded copy
 * is needed anyway; every later step reads it from {@link DecodedCache}.
 */
public final class ConvertedData {
    private final String id;
    private final DataLayout layout;
    private final JavaRDD<ArrowBlock> blocks;
    private final long[] trainRows;
    private final long[] validationRows;
    private final Map<String, Long> skipped;

    private ConvertedData(String id, DataLayout layout, JavaRDD<ArrowBlock> blocks, long[] trainRows,
            long[] validationRows, Map<String, Long> skipped) {
        this.id = id;
        this.layout = layout;
        this.blocks = blocks;
        this.trainRows = trainRows;
        this.validationRows = validationRows;
        this.skipped = skipped;
    }

    /**
     * Converts and caches {@code df} (one job, which also counts the rows and checks every one).
     *
     * @param validationFraction the share of rows held out as {@link ArrowBlock#VALIDATION} (0: none)
     * @param seed               decides, with the partition and row position, which rows are held out
     * @param name               for the RDD's name in the Spark UI
     * @throws InvalidRowException with {@code handleInvalid = error}, for the first invalid row met
     */
    public static ConvertedData convert(Dataset<Row> df, DataLayout layout, double validationFraction, long seed,
            String name) {
        String id = "sparkgrad-" + UUID.randomUUID();
        JavaRDD<ArrowBlock> blocks = df.select(layout.selection()).javaRDD()
                .mapPartitionsWithIndex(new RowConverter(layout, validationFraction, seed), true);
        blocks.setName("sparkgrad " + name + " (Arrow IPC chunks)");
        blocks.persist(StorageLevel.MEMORY_AND_DISK());
        int partitions = blocks.getNumPartitions();
        long[] train = new long[partitions];
        long[] validation = new long[partitions];
        long[] reasons = new long[InvalidReason.values().length];
        List<ArrowBlock> summaries;
        try {
            summaries = blocks.filter(ArrowBlock::isSummary).collect();
        } catch (Exception e) {
            // Spark's actions throw the checked SparkException without declaring it.
            blocks.unpersist(false);
            throw unwrap(e);
        }
        for (ArrowBlock s : summaries) {
            train[s.partition()] = s.trainRows();
            validation[s.partition()] = s.validationRows();
            for (InvalidReason r : InvalidReason.values()) {
                reasons[r.ordinal()] += s.skipped(r);
            }
        }
        Map<String, Long> skipped = new LinkedHashMap<>();
        for (InvalidReason r : InvalidReason.values()) {
            if (reasons[r.ordinal()] > 0) {
                skipped.put(r.label(), reasons[r.ordinal()]);
            }
        }
        return new ConvertedData(id, layout, blocks, train, validation, skipped);
    }

    /**
     * The error behind a failed Spark job when it is one of ours that tells the user what to fix:
     * an {@link InvalidRowException}, or an {@code IllegalArgumentException} /
     * {@code IllegalStateException} thrown by Sparkgrad code in a task (a model whose output does
     * not fit the loss, say). It comes back as itself, with the job failure's first line attached
     * as suppressed; anything else is rethrown unchanged, even when checked.
     */
    public static RuntimeException unwrap(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t != e && isOurs(t)) {
                RuntimeException ours = (RuntimeException) t;
                ours.addSuppressed(new SparkException("Spark job failed: " + firstLine(e.getMessage())));
                return ours;
            }
        }
        if (e instanceof RuntimeException) {
            return (RuntimeException) e;
        }
        throw ConvertedData.<RuntimeException>sneaky(e);
    }

    private static boolean isOurs(Throwable t) {
        if (t instanceof InvalidRowException) {
            return true;
        }
        if (!(t instanceof IllegalArgumentException || t instanceof IllegalStateException)) {
            return false;
        }
        StackTraceElement[] trace = t.getStackTrace();
        return trace.length > 0 && trace[0].getClassName().startsWith("io.sparkgrad.");
    }

    @SuppressWarnings("unchecked")
    private static <T extends Exception> T sneaky(Exception e) throws T {
        throw (T) e;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * The decoded rows of {@code kind} for {@code partition}, from this executor's cache or decoded
     * from the partition's cached blocks now. Runs inside a task.
     */
    public static PartitionData partition(String datasetId, DataLayout layout, int partition, int kind,
            Iterator<ArrowBlock> blocks) {
        return DecodedCache.get(DecodedCache.key(datasetId, partition, kind),
                () -> PartitionData.decode(blocks, kind, layout));
    }

    /** The unique id of this conversion (the key of its decoded partitions on executors). */
    public String id() {
        return id;
    }

    public DataLayout layout() {
        return layout;
    }

    /** The cached chunks: per partition, its training chunks, validation chunks and summary. */
    public JavaRDD<ArrowBlock> blocks() {
        return blocks;
    }

    public int numPartitions() {
        return trainRows.length;
    }

    /** Training rows per partition. */
    public long[] trainRows() {
        return trainRows.clone();
    }

    /** Held-out validation rows per partition. */
    public long[] validationRows() {
        return validationRows.clone();
    }

    public long totalTrainRows() {
        long n = 0;
        for (long r : trainRows) {
            n += r;
        }
        return n;
    }

    public long totalValidationRows() {
        long n = 0;
        for (long r : validationRows) {
            n += r;
        }
        return n;
    }

    /** Skipped rows by {@link InvalidReason#label()}; only reasons that occurred. */
    public Map<String, Long> skippedByReason() {
        return skipped;
    }

    /**
     * Drops the decoded copies on the executors (a light job over the cached partitions, which run
     * where their blocks are) and on this JVM, then unpersists the cached chunks.
     */
    public void release() {
        String datasetId = id;
        try {
            blocks.foreachPartition(it -> DecodedCache.remove(datasetId));
        } finally {
            DecodedCache.remove(datasetId);
            blocks.unpersist(false);
        }
    }
}
