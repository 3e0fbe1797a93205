package io.sparkgrad.spark.ml;

import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A lost executor costs a retried task, never a wrong result: on a real standalone cluster (one
 * Master, two Workers on 127.0.0.1, started by {@code scripts/cluster-up.sh} from the project's own
 * classpath), the classifier trains once undisturbed, then again while one Worker process is killed
 * by its PID mid-training; the second run completes and ends with the very same weights.
 *
 * <p>Tagged {@code cluster}: run it alone with {@code mvn test -pl spark-connector -Dgroups=cluster};
 * it is part of the normal test run too. The cluster is brought down whatever happens.
 */
@Tag("cluster")
class ClusterFaultTest {
    private static final Path ROOT = repositoryRoot();
    private static final Path RUN_DIR = ROOT.resolve("spark-connector/target/cluster-fault-test");
    private static Map<String, String> cluster;
    private static SparkSession spark;
    private static final AtomicBoolean CLUSTER_UP = new AtomicBoolean();

    @BeforeAll
    static void up() throws Exception {
        // Only one SparkContext per JVM: a local session left by another test class must go first.
        SparkSession.getActiveSession().foreach(s -> {
            s.stop();
            return null;
        });
        SparkSession.getDefaultSession().foreach(s -> {
            s.stop();
            return null;
        });
        Runtime.getRuntime().addShutdownHook(new Thread(ClusterFaultTest::clusterDown));
        CLUSTER_UP.set(true); // from here on, whatever happens, cluster-down.sh runs
        run(List.of(ROOT.resolve("scripts/cluster-up.sh").toString(), "-n", "2", "-c", "1", "-m", "1536m",
                "-d", RUN_DIR.toString()), Map.of("SPARKGRAD_SPARK_CLASSPATH", testClasspath()), 150);
        cluster = readEnv(RUN_DIR.resolve("cluster.env"));
        spark = SparkSession.builder()
                .master(cluster.get("MASTER_URL"))
                .appName("sparkgrad-cluster-fault-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.executor.memory", "1g")
                .config("spark.executor.cores", "1")
                .config("spark.cores.max", "2")
                .config("spark.executor.extraClassPath", ownClasspath())
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
        waitForExecutors(2, 90);
    }

    @AfterAll
    static void down() {
        try {
            if (spark != null) {
                spark.stop();
            }
        } finally {
            clusterDown();
        }
    }

    private static synchronized void clusterDown() {
        if (!CLUSTER_UP.getAndSet(false)) {
            return;
        }
        try {
            run(List.of(ROOT.resolve("scripts/cluster-down.sh").toString(), "-d", RUN_DIR.toString()), Map.of(), 60);
        } catch (Exception e) {
            System.err.println("cluster-down failed: " + e);
        }
    }

    private static NeuralNetClassifier classifier() {
        return new NeuralNetClassifier().setHiddenLayers(64).setBatchSize(64).setMaxEpochs(2).setLearningRate(3e-3)
                .setLocalSteps(1).setSeed(17);
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void killingAWorkerMidTrainingChangesNothing() throws Exception {
        // 2000 rows in 4 fixed partitions: 32 steps per epoch, one Spark job each.
        Dataset<Row> data = SparkTests.blobs(2000, 4, 12, 21, 4).cache();
        assertEquals(2000, data.count());

        StepCounter steps = new StepCounter();
        spark.sparkContext().addSparkListener(steps);
        NeuralNetClassificationModel first = classifier().fit(data);
        byte[] undisturbed = first.weightsSafetensors();
        int stepsPerRun = steps.finished.get();
        assertEquals(first.summary().totalSteps(), stepsPerRun, "one job per step");
        assertTrue(stepsPerRun > 50, "steps " + stepsPerRun);

        // Second run: kill one Worker (and so its executor) a third of the way in.
        steps.reset();
        long victim = Long.parseLong(cluster.get("WORKER_PIDS").split(" ")[0]);
        ProcessHandle worker = ProcessHandle.of(victim).orElseThrow(() -> new AssertionError("worker " + victim + " is gone"));
        AtomicInteger stepsAtKill = new AtomicInteger(-1);
        CountDownLatch killed = new CountDownLatch(1);
        Thread killer = new Thread(() -> {
            try {
                while (steps.finished.get() < stepsPerRun / 3) {
                    Thread.sleep(20);
                }
                stepsAtKill.set(steps.finished.get());
                worker.destroyForcibly(); // SIGKILL, by PID
                killed.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "worker-killer");
        killer.setDaemon(true);
        killer.start();

        NeuralNetClassificationModel model = classifier().fit(data);
        assertTrue(killed.await(1, TimeUnit.SECONDS), "the worker was killed during training");
        assertTrue(worker.onExit().get(10, TimeUnit.SECONDS) != null && !worker.isAlive());
        assertTrue(stepsAtKill.get() < stepsPerRun, "killed before the last step (at step " + stepsAtKill.get() + ")");
        assertEquals(stepsPerRun, steps.finished.get(), "every step ran");
        assertTrue(steps.executorsRemoved.get() >= 1, "Spark saw the executor go");
        assertEquals(2, model.summary().totalEpochs());

        assertArrayEquals(undisturbed, model.weightsSafetensors(), "same weights as the undisturbed run");
    }

    /**
     * Counts the trainer's steps, by the distinct descriptions ("sparkgrad epoch e/E step s/S (global
     * step g)") of the jobs that ended, and the executors Spark lost.
     */
    private static final class StepCounter extends SparkListener {
        final AtomicInteger finished = new AtomicInteger();
        final AtomicInteger executorsRemoved = new AtomicInteger();
        private final Map<Integer, String> running = new ConcurrentHashMap<>();
        private final Set<String> done = ConcurrentHashMap.newKeySet();

        void reset() {
            done.clear();
            finished.set(0);
        }

        @Override
        public void onJobStart(SparkListenerJobStart job) {
            String description = job.properties() == null ? null : job.properties().getProperty("spark.job.description");
            if (description != null && description.startsWith("sparkgrad epoch") && description.contains(" step ")) {
                running.put(job.jobId(), description);
            }
        }

        @Override
        public void onJobEnd(SparkListenerJobEnd job) {
            String description = running.remove(job.jobId());
            if (description != null && done.add(description)) {
                finished.incrementAndGet();
            }
        }

        @Override
        public void onExecutorRemoved(SparkListenerExecutorRemoved removed) {
            executorsRemoved.incrementAndGet();
        }
    }

    private static void waitForExecutors(int n, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (spark.sparkContext().getExecutorIds().size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + spark.sparkContext().getExecutorIds().size() + " of " + n
                        + " executors registered within " + seconds + " s; see " + RUN_DIR + "/work-*");
            }
            Thread.sleep(100);
        }
    }

    /** The test JVM's full classpath (surefire puts it in a property when it forks with a manifest jar). */
    private static String testClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isEmpty() ? cp : System.getProperty("java.class.path");
    }

    /** The project's own entries of it (class directories and Sparkgrad jars), for the executors. */
    private static String ownClasspath() {
        return Arrays.stream(testClasspath().split(File.pathSeparator))
                .filter(e -> new File(e).isDirectory() || e.contains(File.separator + "io" + File.separator + "sparkgrad"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static Path repositoryRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (p != null && !Files.isRegularFile(p.resolve("scripts/cluster-up.sh"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("scripts/cluster-up.sh not found above " + System.getProperty("user.dir"));
        }
        return p;
    }

    private static void run(List<String> command, Map<String, String> env, int seconds)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Path log = Files.createDirectories(RUN_DIR).resolve(Path.of(command.get(0)).getFileName() + ".out");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(command.get(0) + " did not finish within " + seconds + " s: "
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(command.get(0) + " failed (exit " + p.exitValue() + "): "
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
    }

    private static Map<String, String> readEnv(Path file) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        List<String> missing = new ArrayList<>();
        for (String k : List.of("MASTER_URL", "WORKER_PIDS")) {
            if (!env.containsKey(k)) {
                missing.add(k);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException(file + " lacks " + missing);
        }
        return env;
    }
}
