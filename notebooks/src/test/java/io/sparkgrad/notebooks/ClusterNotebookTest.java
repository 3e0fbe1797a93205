package io.sparkgrad.notebooks;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The custom-CNN notebook against a real standalone cluster (one Master, two Workers with one core
 * each, on 127.0.0.1, started by {@code scripts/cluster-up.sh} from the project's classpath): the
 * notebook's {@code SmallCnn} class and lambdas are compiled by the REPL in the test JVM, and the
 * executors in the Workers' JVMs load them from the directory the driver serves
 * ({@code spark.repl.class.outputDir}). The Sparkgrad jars reach them through {@code spark.jars}.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ClusterNotebookTest {
    private static final Path RUN_DIR = TestRunners.notebooksDir().resolve("target/notebook-cluster").toAbsolutePath();
    private static String masterUrl;

    @BeforeAll
    static void clusterUp() throws Exception {
        NotebooksTest.assumeFashionMnist();
        clusterDown();   // a cluster left behind by an interrupted run of this test would hold the ports
        // If this JVM is killed (a surefire timeout), the cluster still goes down.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                clusterDown();
            } catch (Exception e) {
                System.err.println("cluster-down.sh failed: " + e);
            }
        }));
        Path script = repo().resolve("scripts/cluster-up.sh");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "-n", "2", "-c", "1", "-m", "1g", "-d",
                RUN_DIR.toString());
        // Ports of their own, so a cluster of another test or a developer's on the defaults does not collide.
        pb.environment().put("SPARKGRAD_MASTER_PORT", "17177");
        pb.environment().put("SPARKGRAD_UI_PORT", "18377");
        pb.environment().put("SPARKGRAD_SPARK_CLASSPATH", sparkClasspath());
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "cluster-up.sh did not finish");
        assertEquals(0, p.exitValue(), "cluster-up.sh failed: " + out);
        String[] lines = out.split("\n");
        masterUrl = lines[lines.length - 1].strip();
        assertTrue(masterUrl.startsWith("spark://127.0.0.1:"), out);
    }

    @AfterAll
    static void clusterDown() throws Exception {
        if (!Files.exists(RUN_DIR.resolve("master.pid"))) {
            return;
        }
        Process p = new ProcessBuilder("bash", repo().resolve("scripts/cluster-down.sh").toString(), "-d",
                RUN_DIR.toString()).inheritIO().start();
        p.waitFor(2, TimeUnit.MINUTES);
    }

    @Test
    void customCnnNotebookRunsOnTheStandaloneCluster() throws Exception {
        Path workDir = TestRunners.notebooksDir().resolve("target/notebook-output/small-cnn-cluster");
        RunReport report = NotebooksTest.customCnn(TestRunners.runner(masterUrl)
                .conf("spark.jars", applicationJars())
                .conf("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector")
                .conf("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .conf("spark.executor.memory", "900m")
                .conf("spark.cores.max", "2"), workDir);

        assertTrue(report.output().contains("resumed and uninterrupted runs agree"), report.output());
        // Both Workers ran executors of the notebook's application.
        for (int i = 1; i <= 2; i++) {
            try (Stream<Path> apps = Files.list(RUN_DIR.resolve("work-" + i))) {
                assertTrue(apps.anyMatch(a -> a.getFileName().toString().startsWith("app-")),
                        "worker " + i + " ran no executor");
            }
        }
    }

    private static Path repo() {
        return Path.of(System.getProperty("sparkgrad.repo.dir", "..")).toAbsolutePath().normalize();
    }

    /** The test classpath's jars but the engine and the connector, which reach executors through {@code spark.jars}. */
    private static String sparkClasspath() {
        return Stream.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
                .filter(e -> !isOurs(e) && e.endsWith(".jar"))
                .collect(Collectors.joining(java.io.File.pathSeparator));
    }

    /** The engine or the connector, as a jar or as a module's classes directory. */
    private static boolean isOurs(String entry) {
        Path p = Path.of(entry);
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        return name.startsWith("sparkgrad-engine-") || name.startsWith("sparkgrad-spark-")
                || p.endsWith(Path.of("engine/target/classes")) || p.endsWith(Path.of("spark-connector/target/classes"));
    }

    /**
     * The Sparkgrad engine and connector as jars for {@code spark.jars}: taken from the classpath as
     * they are, or packed from their {@code target/classes} directories when the build has not made
     * jars yet (a {@code mvn test} run).
     */
    private static String applicationJars() throws IOException {
        List<String> jars = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!isOurs(entry)) {
                continue;
            }
            if (Files.isDirectory(p)) {
                jars.add(pack(p, RUN_DIR.resolve("jars").resolve(p.getParent().getParent().getFileName() + ".jar")));
            } else {
                jars.add(p.toAbsolutePath().toString());
            }
        }
        assertEquals(2, jars.size(), "the engine and the connector on the classpath: " + jars);
        return String.join(",", jars);
    }

    private static String pack(Path classes, Path jar) throws IOException {
        Files.createDirectories(jar.getParent());
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jos = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().collect(Collectors.toList())) {
                jos.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, jos);
                jos.closeEntry();
            }
        }
        return jar.toString();
    }
}
