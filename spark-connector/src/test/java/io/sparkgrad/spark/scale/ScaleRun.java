package io.sparkgrad.spark.scale;

import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import io.sparkgrad.spark.train.DistributedTrainer;
import io.sparkgrad.spark.train.EpochStats;
import io.sparkgrad.spark.train.OptimizerSpec;
import io.sparkgrad.spark.train.SerializableSupplier;
import io.sparkgrad.spark.train.TrainerConfig;
import io.sparkgrad.spark.train.TrainingResult;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.RDDInfo;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The scale runs of RELIABILITY.md ({@code scripts/scale-run.sh} starts them with the heap each
 * one is about):
 * <pre>
 *   generate out=DIR [rows=20000000] [features=100] [classes=10] [partitions=N] [seed=1]
 *   train    data=DIR [batch=4096] [epochs=1] [hidden=64] [classes=10] [maxPartitionBytes=SIZE] [memoryFraction=F]
 *   bigmodel [params=50000000] [steps=3] [batch=256]
 * </pre>
 * {@code generate} writes {@link TeacherData} as Parquet; {@code train} fits an MLP on it with
 * {@link DistributedTrainer} and reports rows/s, the peak heap (driver and executors share the JVM
 * on {@code local[N]}) and how much of the cached Arrow data Spark kept on disk; {@code bigmodel}
 * trains a model of about {@code params} parameters for a few synchronous steps. Every run ends
 * with one line starting {@code scale-run result:}.
 */
public final class ScaleRun {
    private ScaleRun() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: ScaleRun generate|train|bigmodel key=value...");
        }
        Map<String, String> a = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("argument " + i + " (\"" + args[i] + "\") is not key=value");
            }
            a.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        SparkSession spark = session(a.getOrDefault("master", "local[2]"), a.get("maxPartitionBytes"),
                a.get("memoryFraction"));
        try {
            String result;
            switch (args[0]) {
                case "generate":
                    result = generate(spark, required(a, "out"), Long.parseLong(a.getOrDefault("rows", "20000000")),
                            Integer.parseInt(a.getOrDefault("features", "100")),
                            Integer.parseInt(a.getOrDefault("classes", "10")),
                            Integer.parseInt(a.getOrDefault("partitions", "0")), Long.parseLong(a.getOrDefault("seed", "1")));
                    break;
                case "train":
                    result = train(spark, required(a, "data"), Integer.parseInt(a.getOrDefault("batch", "4096")),
                            Integer.parseInt(a.getOrDefault("epochs", "1")), Integer.parseInt(a.getOrDefault("hidden", "64")),
                            Integer.parseInt(a.getOrDefault("classes", "10"))).describe();
                    break;
                case "bigmodel":
                    result = bigModel(spark, Long.parseLong(a.getOrDefault("params", "50000000")),
                            Integer.parseInt(a.getOrDefault("steps", "3")), Integer.parseInt(a.getOrDefault("batch", "256")));
                    break;
                default:
                    throw new IllegalArgumentException("unknown mode " + args[0] + ": generate, train or bigmodel");
            }
            System.out.println("scale-run result: " + result);
        } finally {
            spark.stop();
        }
    }

    private static String required(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing argument " + key + "=...");
        }
        return v;
    }

    /**
     * A session on {@code master} with Kryo and Sparkgrad's registrator and room for 50M-parameter
     * buffers. {@code memoryFraction} is {@code spark.memory.fraction}: Spark's share of the heap for
     * cached blocks and its own execution memory; the rest is for what Spark does not account, such
     * as a partition's rows being encoded as Arrow and the trainer's decoded-partition cache. Either,
     * when null, keeps Spark's default (128 MiB partitions, 0.6), which is what a user gets.
     */
    static SparkSession session(String master, String maxPartitionBytes, String memoryFraction) {
        SparkSession.Builder b = SparkSession.builder();
        if (maxPartitionBytes != null) {
            b.config("spark.sql.files.maxPartitionBytes", maxPartitionBytes);
        }
        if (memoryFraction != null) {
            b.config("spark.memory.fraction", memoryFraction);
        }
        return b.master(master).appName("sparkgrad-scale-run")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.kryoserializer.buffer.max", "1g")
                .config("spark.driver.maxResultSize", "2g")
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .getOrCreate();
    }

    static String generate(SparkSession spark, String out, long rows, int features, int classes, int partitions,
            long seed) {
        int p = partitions > 0 ? partitions : (int) Math.max(2, rows / 125_000);
        long t0 = System.nanoTime();
        new TeacherData(features, 32, classes, seed).frame(spark, rows, p).write().mode(SaveMode.Overwrite)
                .parquet(out);
        double s = (System.nanoTime() - t0) / 1e9;
        return String.format(Locale.ROOT, "generated %,d rows x %d features (%d classes, seed %d) in %d Parquet "
                + "partitions at %s in %.1f s (%,.0f rows/s)", rows, features, classes, seed, p, out, s, rows / s);
    }

    /** What a training run over a Parquet data set measured. */
    record TrainReport(long rows, int epochs, double seconds, double trainRowsPerSecond, double overheadShare,
            double loss, long peakHeapUsed, long peakLiveHeap, long maxHeap, long cachedOnDisk, long cachedInMemory,
            int localSteps) {
        String describe() {
            return String.format(Locale.ROOT, "trained on %,d rows for %d epoch(s) in %.1f s (%,.0f rows/s overall, "
                    + "%,.0f rows/s in steps, Spark overhead %.0f%%, K=%d), final epoch loss %.4f; JVM heap (driver and "
                    + "executors) max %d MiB, peak used %d MiB, peak live after GC %d MiB; cached Arrow chunks at most "
                    + "%d MiB on disk and %d MiB in memory", rows, epochs, seconds, rows * (double) epochs / seconds,
                    trainRowsPerSecond, 100 * overheadShare, localSteps, loss, maxHeap >> 20, peakHeapUsed >> 20,
                    peakLiveHeap >> 20, cachedOnDisk >> 20, cachedInMemory >> 20);
        }
    }

    static TrainReport train(SparkSession spark, String data, int batch, int epochs, int hidden, int classes) {
        Dataset<Row> df = spark.read().parquet(data);
        int features = df.select("features").first().<Object>getList(0).size();
        SerializableSupplier<Module> mlp = () -> new Sequential(new Linear(features, hidden), new ReLU(),
                new Linear(hidden, classes));
        TrainerConfig cfg = TrainerConfig.builder().model(mlp).numClasses(classes).optimizer(OptimizerSpec.adam(2e-3))
                .batchSize(batch).maxEpochs(epochs).seed(7).featuresCol("features").labelCol("label").build();
        try (MemoryWatch watch = new MemoryWatch(spark)) {
            long t0 = System.nanoTime();
            TrainingResult r = DistributedTrainer.fit(df, cfg);
            double seconds = (System.nanoTime() - t0) / 1e9;
            EpochStats last = r.history().get(r.history().size() - 1);
            double stepRows = r.history().stream().mapToDouble(EpochStats::rowsPerSecond).average().orElse(0);
            watch.sample();
            return new TrainReport(r.trainRows(), r.history().size(), seconds, stepRows, last.sparkOverheadShare(),
                    last.trainLoss(), watch.peakUsed, watch.peakLive, Runtime.getRuntime().maxMemory(), watch.maxOnDisk,
                    watch.maxInMemory, r.localSteps());
        }
    }

    static String bigModel(SparkSession spark, long params, int steps, int batch) {
        int features = 100;
        int classes = 10;
        // features → h → h → classes has h² + (features + classes + 2)·h + classes parameters.
        int h = (int) Math.floor((-(features + classes + 2) + Math.sqrt(Math.pow(features + classes + 2, 2)
                + 4.0 * (params - classes))) / 2);
        SerializableSupplier<Module> mlp = () -> new Sequential(new Linear(features, h), new ReLU(), new Linear(h, h),
                new ReLU(), new Linear(h, classes));
        Dataset<Row> df = new TeacherData(features, 32, classes, 3).frame(spark, 4L * batch, 2);
        TrainerConfig cfg = TrainerConfig.builder().model(mlp).numClasses(classes).optimizer(OptimizerSpec.adam(1e-4))
                .batchSize(batch).maxEpochs(100).maxSteps(steps).localSteps(1).seed(5).featuresCol("features")
                .labelCol("label").build();
        try (MemoryWatch watch = new MemoryWatch(spark)) {
            long t0 = System.nanoTime();
            TrainingResult r = DistributedTrainer.fit(df, cfg);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long n = 0;
            for (var p : r.model().parameters()) {
                n += p.numel();
            }
            watch.sample();
            return String.format(Locale.ROOT, "a %,d-parameter MLP (%d-%d-%d-%d, Adam) trained %d synchronous steps of "
                    + "%d rows on %s in %.1f s; JVM heap (driver and executors) max %d MiB, peak used %d MiB, peak live "
                    + "after GC %d MiB", n, features, h, h, classes, r.steps(), batch, spark.sparkContext().master(),
                    seconds, Runtime.getRuntime().maxMemory() >> 20, watch.peakUsed >> 20, watch.peakLive >> 20);
        }
    }

    /**
     * Samples, every 200 ms, the heap in use (with garbage), the old generation after its last
     * collection (what is really live), and the memory and disk size of the trainer's cached Arrow
     * chunks (Spark's storage status), keeping the maxima.
     */
    static final class MemoryWatch implements AutoCloseable {
        private final SparkSession spark;
        private final Thread thread;
        private volatile boolean running = true;
        volatile long peakUsed;
        volatile long peakLive;
        volatile long maxOnDisk;
        volatile long maxInMemory;

        MemoryWatch(SparkSession spark) {
            this.spark = spark;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                pool.resetPeakUsage();
            }
            thread = new Thread(() -> {
                while (running) {
                    sample();
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "scale-run-memory-watch");
            thread.setDaemon(true);
            thread.start();
        }

        synchronized void sample() {
            peakUsed = Math.max(peakUsed, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            long live = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                MemoryUsage afterGc = pool.getCollectionUsage();
                if (pool.getType() == MemoryType.HEAP && afterGc != null && pool.getName().contains("Old")) {
                    live += afterGc.getUsed();
                }
            }
            peakLive = Math.max(peakLive, live);
            long disk = 0;
            long memory = 0;
            for (RDDInfo info : spark.sparkContext().getRDDStorageInfo()) {
                if (info.name() != null && info.name().contains("Arrow IPC chunks")) {
                    disk += info.diskSize();
                    memory += info.memSize();
                }
            }
            maxOnDisk = Math.max(maxOnDisk, disk);
            maxInMemory = Math.max(maxInMemory, memory);
        }

        @Override
        public void close() {
            running = false;
            thread.interrupt();
        }
    }
}
