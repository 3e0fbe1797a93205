package io.sparkgrad.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on a real standalone cluster: {@code scripts/cluster-up.sh} starts a Master and two
 * Workers on 127.0.0.1 (on free ports), {@code scripts/submit.sh} submits the shaded jobs jar through
 * Spark's SparkSubmit exactly as {@code spark-submit} would, {@code train} then {@code predict}, and
 * {@code scripts/cluster-down.sh} stops the cluster whatever happened (also from a shutdown hook).
 * The data is synthetic MNIST-style IDX files (gzip, with the MNIST file names), a few thousand rows.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class SubmitIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ROOT = Path.of(System.getProperty("sparkgrad.home", "..")).toAbsolutePath().normalize();
    private static final Path WORK = ROOT.resolve("jobs/target/submit-it");
    private static final Path RUN_DIR = WORK.resolve("cluster");
    private static final Path DATA = WORK.resolve("data");
    private static boolean clusterUp;

    @BeforeAll
    static void up() throws Exception {
        deleteTree(WORK);
        Files.createDirectories(DATA);
        // 8x8 images of 4 classes: 3000 to train on, 600 to predict.
        new Blobs(3000, 64, 4, 31).writeIdx(DATA, "train", 8, true);
        new Blobs(600, 64, 4, 31).writeIdx(DATA, "t10k", 8, true);
        Runtime.getRuntime().addShutdownHook(new Thread(SubmitIT::down));
        int master = freePort();
        int ui = freePort();
        Map<String, String> env = new HashMap<>();
        env.put("SPARKGRAD_SPARK_CLASSPATH", testClasspath());
        env.put("SPARKGRAD_MASTER_PORT", Integer.toString(master));
        env.put("SPARKGRAD_UI_PORT", Integer.toString(ui));
        synchronized (SubmitIT.class) {
            clusterUp = true; // from here on, cluster-down.sh runs whatever happens
        }
        Proc p = run(List.of(script("cluster-up.sh"), "-n", "2", "-c", "1", "-m", "1536m", "-d", RUN_DIR.toString()),
                env, 180);
        assertEquals(0, p.code(), p::toString);
        assertTrue(p.out().strip().endsWith("spark://127.0.0.1:" + master), p::toString);
    }

    @AfterAll
    static synchronized void down() {
        if (!clusterUp) {
            return;
        }
        clusterUp = false;
        try {
            Proc p = run(List.of(script("cluster-down.sh"), "-d", RUN_DIR.toString()), Map.of(), 90);
            if (p.code() != 0) {
                System.err.println("cluster-down.sh failed: " + p);
            }
        } catch (Exception e) {
            System.err.println("cluster-down.sh failed: " + e);
        }
    }

    @Test
    void trainThenPredictOnTheStandaloneCluster() throws Exception {
        Path model = WORK.resolve("model");
        Proc train = submit("train", "--input", DATA.resolve("train-images-idx3-ubyte.gz").toString(), "--layers", "32",
                "--epochs", "2", "--batch", "100", "--lr", "0.01", "--output", model.toString());
        assertEquals(0, train.code(), train::toString);
        assertTrue(train.out().contains("validation accuracy: "), train::toString);
        assertTrue(train.err().contains("3000 rows of 'features'"), train::toString);
        assertTrue(train.err().matches("(?s).*epoch 2/2  loss \\d\\.\\d{4}  val_loss.*"), train::toString);
        // No terminal (output to files): plain lines, never a bar redrawn with carriage returns.
        assertFalse(train.err().contains("\r"), train::toString);

        // The outputs: the Spark ML model directory, the weights, the metrics and the curve.
        assertTrue(Files.isDirectory(model.resolve("model/metadata")), train::toString);
        assertTrue(Files.isRegularFile(model.resolve("model/data/weights.safetensors")), train::toString);
        assertEquals(Map.of("0.weight", 32 * 64, "0.bias", 32, "2.weight", 4 * 32, "2.bias", 4),
                sizes(SafeTensors.load(model.resolve("weights.safetensors")).tensors()));
        JsonNode metrics = JSON.readTree(model.resolve("metrics.json").toFile());
        assertEquals(2, metrics.get("epochs").size());
        assertTrue(metrics.get("epochs").get(1).get("val_accuracy").asDouble() > 0.8, metrics::toString);
        assertEquals(3000, metrics.get("train_rows").asLong() + metrics.get("validation_rows").asLong());
        byte[] png = Files.readAllBytes(model.resolve("curve.png"));
        assertTrue(png.length > 1000 && png[0] == (byte) 0x89 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
        assertTrue(Files.isRegularFile(model.resolve("job.json")));

        Path predictions = WORK.resolve("predictions");
        Proc predict = submit("predict", "--model", model.toString(), "--input",
                DATA.resolve("t10k-images-idx3-ubyte.gz").toString(), "--output", predictions.toString());
        assertEquals(0, predict.code(), predict::toString);
        assertTrue(predict.out().contains("columns label, prediction, probability"), predict::toString);
        assertTrue(Files.exists(predictions.resolve("_SUCCESS")), predict::toString);
        int rows = 0;
        int right = 0;
        for (Path part : parts(predictions)) {
            try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(),
                    new org.apache.hadoop.fs.Path(part.toUri())).withConf(new Configuration()).build()) {
                for (Group g = r.read(); g != null; g = r.read()) {
                    rows++;
                    if (g.getDouble("label", 0) == g.getDouble("prediction", 0)) {
                        right++;
                    }
                }
            }
        }
        assertEquals(600, rows);
        assertTrue(right > 0.8 * rows, right + " of " + rows + " predictions right");
    }

    @Test
    void badArgumentsExitWithStatus2ThroughSparkSubmit() throws Exception {
        Proc p = submit("train", "--input", DATA.resolve("missing-images-idx3-ubyte.gz").toString(), "--output",
                WORK.resolve("never").toString());
        assertEquals(2, p.code(), p::toString);
        assertTrue(p.err().contains("sparkgrad train: --input: ") && p.err().contains("missing-images-idx3-ubyte.gz does "
                + "not exist"), p::toString);
        assertTrue(!Files.exists(WORK.resolve("never")));
    }

    private static Map<String, Integer> sizes(Map<String, io.sparkgrad.Tensor> tensors) {
        Map<String, Integer> out = new HashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.numel()));
        return out;
    }

    private static List<Path> parts(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    private static Proc submit(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(script("submit.sh"), "-d", RUN_DIR.toString()));
        cmd.addAll(Arrays.asList(args));
        Map<String, String> env = new HashMap<>();
        env.put("SPARKGRAD_JOBS_JAR", System.getProperty("sparkgrad.jobs.jar",
                ROOT.resolve("jobs/target/sparkgrad-jobs.jar").toString()));
        return run(cmd, env, 420);
    }

    /** A finished process: its exit status and what it printed. */
    record Proc(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }

    private static Proc run(List<String> command, Map<String, String> env, int seconds) throws Exception {
        Files.createDirectories(WORK);
        String name = Path.of(command.get(0)).getFileName() + "-" + System.nanoTime();
        Path out = WORK.resolve(name + ".out");
        Path err = WORK.resolve(name + ".err");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new AssertionError(command + " did not finish within " + seconds + " s:\n"
                    + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new Proc(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static String script(String name) {
        return ROOT.resolve("scripts").resolve(name).toString();
    }

    /**
     * Spark's runtime jars for the cluster: the test JVM's classpath (failsafe puts it in a property when
     * it forks with a manifest jar) without this project's own classes and jars and without the test and
     * charting libraries, so the executors get Sparkgrad only from the shaded jar that SparkSubmit ships.
     */
    private static String testClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        cp = cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
        List<String> skip = List.of("/io/sparkgrad/", "/org/knowm/", "/org/junit/", "/org/opentest4j/", "/org/apiguardian/");
        return Arrays.stream(cp.split(File.pathSeparator))
                .filter(e -> !Path.of(e).toAbsolutePath().startsWith(ROOT) && skip.stream().noneMatch(e::contains))
                .collect(java.util.stream.Collectors.joining(File.pathSeparator));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
