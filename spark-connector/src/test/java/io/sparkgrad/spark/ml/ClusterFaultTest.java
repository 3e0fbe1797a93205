package io.sparkgrad.spark.ml;

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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults on a real standalone cluster (one Master and five one-core Workers on 127.0.0.1, started by
 * {@code scripts/cluster-up.sh} from the project's own classpath; the training applications use two
 * executors, so three Workers are spare): a lost worker costs retried tasks and a killed driver
 * costs the steps since the last checkpoint, never a different model. The classifier is trained
 * once undisturbed (the reference), then
 * <ol>
 *   <li>in a driver JVM of its own ({@link ClusterTrainingDriver}) with checkpoints, killed with
 *       SIGKILL by its PID at a seeded random point, and trained again by a new driver on the same
 *       checkpoint directory, which resumes and must end with the reference's weights, byte for byte;</li>
 *   <li>in this JVM while three Workers that host its executors are killed with SIGKILL by their
 *       PIDs at three seeded random steps: every step runs and the weights equal the reference's.</li>
 * </ol>
 *
 * <p>Tagged {@code cluster}: run it alone with {@code mvn test -pl spark-connector -Dgroups=cluster};
 * it is part of the normal test run too. The cluster is brought down whatever happens. Its ports
 * (Master 7177, UI 18180 and up) differ from the scripts' defaults, so a cluster someone started by
 * hand does not collide with it.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFaultTest {
    /** Seeds the steps at which faults are injected; change it to try other points. */
    private static final long FAULT_SEED = 8;
    private static final Path ROOT = repositoryRoot();
    private static final Path RUN_DIR = ROOT.resolve("spark-connector/target/cluster-fault-test");
    private static Map<String, String> cluster;
    private static SparkSession spark;
    private static final AtomicBoolean CLUSTER_UP = new AtomicBoolean();
    private static final StepCounter STEPS = new StepCounter();
    /** The undisturbed run's weights (safetensors bytes) and step count. */
    private static byte[] undisturbed;
    private static int stepsPerRun;

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
        run(List.of(ROOT.resolve("scripts/cluster-up.sh").toString(), "-n", "5", "-c", "1", "-m", "1536m",
                "-d", RUN_DIR.toString()), Map.of("SPARKGRAD_SPARK_CLASSPATH", testClasspath(),
                "SPARKGRAD_MASTER_PORT", "7177", "SPARKGRAD_UI_PORT", "18180"), 150);
        cluster = readEnv(RUN_DIR.resolve("cluster.env"));
        spark = ClusterTrainingDriver.session(cluster.get("MASTER_URL"), ownClasspath(), "sparkgrad-cluster-fault-test");
        waitForExecutors(2, 90);
        spark.sparkContext().addSparkListener(STEPS);

        NeuralNetClassificationModel reference = classifier().fit(data());
        undisturbed = reference.weightsSafetensors();
        stepsPerRun = STEPS.finished.get();
        assertEquals(reference.summary().totalSteps(), stepsPerRun, "one job per step");
        assertTrue(stepsPerRun > 50, "steps " + stepsPerRun);
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

    /** The model every run here trains: synchronous SGD (one Spark job per step), 3 epochs of 32 steps. */
    static NeuralNetClassifier classifier() {
        return new NeuralNetClassifier().setHiddenLayers(64).setBatchSize(64).setMaxEpochs(3).setLearningRate(3e-3)
                .setLocalSteps(1).setSeed(17);
    }

    /** 2000 rows in 4 fixed partitions, each row a function of its id (recomputed identically after a loss). */
    static Dataset<Row> data() {
        return SparkTests.blobs(2000, 4, 12, 21, 4).cache();
    }

    @Test
    @Order(1)
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void killingTheDriverMidRunAndStartingANewOneOnTheSameCheckpointsEndsWithTheSameWeights() throws Exception {
        deleteRecursively(RUN_DIR.resolve("driver-kill")); // an earlier run's checkpoints would be resumed
        Path checkpoints = Files.createDirectories(RUN_DIR.resolve("driver-kill/checkpoints"));
        Path output = RUN_DIR.resolve("driver-kill/out");
        SplittableRandom random = new SplittableRandom(FAULT_SEED);
        int killAfterCheckpoint = 8 + random.nextInt(stepsPerRun / 2); // some step in the first half or so
        int extraMillis = random.nextInt(400);                          // and somewhere in the steps after it

        Process first = startDriver(checkpoints, output, "driver-1.log");
        long firstPid = first.pid();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (newestCheckpoint(checkpoints) < killAfterCheckpoint) {
            if (!first.isAlive()) {
                throw new AssertionError("the first driver exited (" + first.exitValue() + ") before step "
                        + killAfterCheckpoint + ": " + tail(RUN_DIR.resolve("driver-1.log")));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no checkpoint of step " + killAfterCheckpoint + " within 240 s: "
                        + tail(RUN_DIR.resolve("driver-1.log")));
            }
            Thread.sleep(20);
        }
        Thread.sleep(extraMillis);
        ProcessHandle.of(firstPid).orElseThrow(() -> new AssertionError("driver " + firstPid + " is gone"))
                .destroyForcibly(); // SIGKILL, by PID
        assertTrue(first.waitFor(30, TimeUnit.SECONDS), "the driver died");
        assertEquals(137, first.exitValue(), "killed by SIGKILL");
        assertFalse(Files.exists(Path.of(output + ".safetensors")), "the first driver did not finish");
        long checkpointAtKill = newestCheckpoint(checkpoints);
        assertTrue(checkpointAtKill < stepsPerRun, "killed mid-run, at checkpoint " + checkpointAtKill);
        System.out.println("cluster fault test: driver pid " + firstPid + " killed " + extraMillis
                + " ms after the checkpoint of step " + killAfterCheckpoint + " appeared; newest checkpoint then: step "
                + checkpointAtKill + " of " + stepsPerRun);

        Process second = startDriver(checkpoints, output, "driver-2.log");
        if (!second.waitFor(300, TimeUnit.SECONDS)) {
            second.destroyForcibly();
            throw new AssertionError("the second driver did not finish within 300 s: " + tail(RUN_DIR.resolve("driver-2.log")));
        }
        assertEquals(0, second.exitValue(), () -> "the second driver failed: " + tail(RUN_DIR.resolve("driver-2.log")));
        assertEquals(Long.toString(checkpointAtKill), Files.readString(Path.of(output + ".resumed")),
                "resumed from the newest checkpoint the killed driver left");
        assertArrayEquals(undisturbed, Files.readAllBytes(Path.of(output + ".safetensors")),
                "same weights as the undisturbed run");
    }

    @Test
    @Order(2)
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void killingAWorkerThreeTimesDuringOneRunChangesNothing() throws Exception {
        int[] killSteps = spacedSteps(new SplittableRandom(FAULT_SEED + 1), 3, 6);
        String appId = spark.sparkContext().applicationId();
        List<Long> victims = new CopyOnWriteArrayList<>();
        List<Integer> stepsAtKill = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> killerFailure = new AtomicReference<>();
        STEPS.reset();
        int removedBefore = STEPS.executorsRemoved.get();
        Thread killer = new Thread(() -> {
            try {
                for (int k : killSteps) {
                    while (STEPS.finished.get() < k) {
                        Thread.sleep(10);
                    }
                    ProcessHandle worker = workerHostingAnExecutorOf(appId, 60);
                    stepsAtKill.add(STEPS.finished.get());
                    worker.destroyForcibly(); // SIGKILL, by PID
                    worker.onExit().get(30, TimeUnit.SECONDS);
                    victims.add(worker.pid());
                }
            } catch (Throwable t) {
                killerFailure.set(t);
            }
        }, "worker-killer");
        killer.setDaemon(true);
        killer.start();

        NeuralNetClassificationModel model = classifier().fit(data());
        killer.join(TimeUnit.SECONDS.toMillis(30));
        if (killerFailure.get() != null) {
            throw new AssertionError("injecting the faults failed", killerFailure.get());
        }
        System.out.println("cluster fault test: workers " + victims + " killed at steps " + stepsAtKill + " (planned "
                + Arrays.toString(killSteps) + ") of " + stepsPerRun);
        assertEquals(3, victims.size(), "three workers were killed during training");
        assertEquals(3, new HashSet<>(victims).size(), "three different worker processes");
        for (int s : stepsAtKill) {
            assertTrue(s < stepsPerRun, "killed before the last step (at step " + s + ")");
        }
        assertEquals(stepsPerRun, STEPS.finished.get(), "every step ran");
        assertTrue(STEPS.executorsRemoved.get() - removedBefore >= 3, "Spark saw the three executors go");
        assertEquals(3, model.summary().totalEpochs());
        assertArrayEquals(undisturbed, model.weightsSafetensors(), "same weights as the undisturbed run");
    }

    /** {@code n} sorted steps in {@code [4, stepsPerRun)}, at least {@code gap} apart, drawn from {@code random}. */
    private static int[] spacedSteps(SplittableRandom random, int n, int gap) {
        int[] out = new int[n];
        int low = 4;
        for (int i = 0; i < n; i++) {
            // Within the first half: finding a worker that hosts an executor can wait seconds for
            // Spark to replace the last one killed, while a quiet machine runs several steps a
            // second, so later kill steps could arrive after the run had ended.
            int high = stepsPerRun / 2 - gap * (n - i);
            out[i] = low + random.nextInt(Math.max(1, high - low));
            low = out[i] + gap;
        }
        return out;
    }

    /** A live Worker whose child process is an executor of application {@code appId} (waiting for one to start). */
    private static ProcessHandle workerHostingAnExecutorOf(String appId, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            for (String pid : cluster.get("WORKER_PIDS").split(" ")) {
                ProcessHandle worker = ProcessHandle.of(Long.parseLong(pid)).orElse(null);
                if (worker != null && worker.isAlive() && worker.children().anyMatch(c -> c.isAlive()
                        && Arrays.asList(c.info().arguments().orElse(new String[0])).contains(appId))) {
                    return worker;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no live worker hosts an executor of " + appId + " after " + seconds + " s");
    }

    /** Starts {@link ClusterTrainingDriver} in a JVM of its own, with this JVM's options and classpath. */
    private static Process startDriver(Path checkpoints, Path output, String logName) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib") && !option.startsWith("-javaagent") && !option.startsWith("-Xmx")) {
                command.add(option);
            }
        }
        command.addAll(List.of("-Xmx1g", "-cp", testClasspath(), ClusterTrainingDriver.class.getName(),
                cluster.get("MASTER_URL"), ownClasspath(), checkpoints.toUri().toString(), output.toString()));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(RUN_DIR.resolve(logName).toFile()).start();
    }

    /** The step of the newest checkpoint file in {@code dir}, -1 when there is none. */
    private static long newestCheckpoint(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("checkpoint-\\d+\\.safetensors"))
                    .mapToLong(n -> Long.parseLong(n.substring("checkpoint-".length(), n.indexOf('.')))).max().orElse(-1);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The last 40 lines of a driver's log, for a failure message. */
    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(its log " + log + " cannot be read: " + e + ")";
        }
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
