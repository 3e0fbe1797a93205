package io.sparkgrad.jobs;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaded jar that {@code spark-submit} runs (built by {@code package}, so a failsafe test): it
 * holds Sparkgrad and what Sparkgrad needs, the libraries a cluster may bring in another version
 * (Jackson, XChart) only under {@code io.sparkgrad.jobs.shaded}, and nothing of what the cluster
 * provides (Spark, Scala, Hadoop, Arrow, netlib), so it runs on any Spark 4.x without clashing.
 */
class ShadedJarIT {
    private static final Path JAR = Path.of(System.getProperty("sparkgrad.jobs.jar", "target/sparkgrad-jobs.jar"));

    private static List<String> entries() throws IOException {
        List<String> names = new ArrayList<>();
        try (JarFile jar = new JarFile(JAR.toFile())) {
            jar.stream().forEach(e -> names.add(e.getName()));
        }
        return names;
    }

    @Test
    void runsTheJobsAndHoldsSparkgrad() throws IOException {
        assertTrue(Files.isRegularFile(JAR), JAR + " is missing; mvn package builds it");
        try (JarFile jar = new JarFile(JAR.toFile())) {
            Manifest m = jar.getManifest();
            assertEquals(Main.class.getName(), m.getMainAttributes().getValue("Main-Class"));
        }
        List<String> names = entries();
        for (String cls : List.of("io/sparkgrad/jobs/Main.class", "io/sparkgrad/Tensor.class",
                "io/sparkgrad/spark/ml/NeuralNetClassifier.class",
                "io/sparkgrad/spark/kryo/SparkgradKryoRegistrator.class",
                "io/sparkgrad/jobs/shaded/jackson/databind/ObjectMapper.class",
                "io/sparkgrad/jobs/shaded/xchart/BitmapEncoder.class")) {
            assertTrue(names.contains(cls), cls + " is not in " + JAR);
        }
    }

    @Test
    void leavesOutWhatTheClusterProvidesAndRelocatesWhatCouldClash() throws IOException {
        List<String> provided = List.of("org/apache/spark/", "scala/", "org/apache/hadoop/", "org/apache/arrow/",
                "dev/ludovic/netlib/", "org/slf4j/", "org/apache/logging/log4j/");
        List<String> relocated = List.of("com/fasterxml/", "org/knowm/");
        List<String> wrong = new ArrayList<>();
        for (String name : entries()) {
            if (provided.stream().anyMatch(name::startsWith) || relocated.stream().anyMatch(name::startsWith)
                    || name.startsWith("META-INF/versions/")) {
                wrong.add(name);
            }
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(10, wrong.size())),
                wrong.size() + " entries that a cluster provides, or that should be relocated");
    }
}
