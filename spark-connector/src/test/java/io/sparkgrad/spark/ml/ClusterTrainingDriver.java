package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A Spark driver in a JVM of its own, so that {@link ClusterFaultTest} can kill it with SIGKILL
 * mid-training, as a crashed {@code spark-submit} would die: it fits {@link ClusterFaultTest#classifier()}
 * on {@link ClusterFaultTest#data()} against a standalone cluster with checkpoints in a directory,
 * and writes the trained weights (safetensors) and the step it resumed from next to each other.
 *
 * <pre>
 *   java ... ClusterTrainingDriver MASTER_URL EXECUTOR_CLASSPATH CHECKPOINT_DIR OUTPUT_PREFIX
 * </pre>
 * Writes {@code OUTPUT_PREFIX.safetensors} and {@code OUTPUT_PREFIX.resumed} (the step as text),
 * each through a temporary file and a rename, and exits 0; any failure exits non-zero.
 */
public final class ClusterTrainingDriver {
    private ClusterTrainingDriver() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: ClusterTrainingDriver MASTER_URL EXECUTOR_CLASSPATH CHECKPOINT_DIR OUTPUT_PREFIX");
            System.exit(2);
        }
        SparkSession spark = session(args[0], args[1], "sparkgrad-cluster-driver-" + ProcessHandle.current().pid());
        try {
            Dataset<Row> data = ClusterFaultTest.data();
            NeuralNetClassificationModel model = ClusterFaultTest.classifier().setCheckpointDir(args[2])
                    .setCheckpointInterval(4).fit(data);
            writeAtomically(Path.of(args[3] + ".safetensors"), model.weightsSafetensors());
            writeAtomically(Path.of(args[3] + ".resumed"),
                    Long.toString(model.summary().resumedFromStep()).getBytes(StandardCharsets.UTF_8));
        } finally {
            spark.stop();
        }
    }

    /** The session both the test and this driver use: two one-core executors, Kryo with Sparkgrad's registrator. */
    static SparkSession session(String master, String executorClasspath, String appName) {
        return SparkSession.builder()
                .master(master)
                .appName(appName)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.executor.memory", "1g")
                .config("spark.executor.cores", "1")
                .config("spark.cores.max", "2")
                .config("spark.executor.extraClassPath", executorClasspath)
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    private static void writeAtomically(Path target, byte[] bytes) throws Exception {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
