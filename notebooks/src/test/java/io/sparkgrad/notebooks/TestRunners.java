package io.sparkgrad.notebooks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Runners set up as the tests need them: real Spark on 127.0.0.1 without a UI, classes under target/. */
final class TestRunners {
    private TestRunners() {
    }

    /** The project's notebooks directory (the module's base directory). */
    static Path notebooksDir() {
        return Path.of(System.getProperty("sparkgrad.notebooks.dir", "."));
    }

    /** The project's notebooks: every {@code *.scala} file in the notebooks directory, by name. */
    static List<Path> projectNotebooks() throws IOException {
        try (Stream<Path> files = Files.list(notebooksDir())) {
            return files.filter(f -> f.getFileName().toString().endsWith(".scala")).sorted().toList();
        }
    }

    /** A notebook shipped with the tests, from src/test/resources/notebooks. */
    static Path testNotebook(String name) {
        return notebooksDir().resolve("src/test/resources/notebooks").resolve(name);
    }

    /** A runner whose notebooks get {@code master} through their own {@code getOrCreate()}. */
    static NotebookRunner.Builder runner(String master) {
        return NotebookRunner.builder()
                .conf("spark.master", master)
                .conf("spark.ui.enabled", "false")
                .conf("spark.driver.host", "127.0.0.1")
                .conf("spark.driver.bindAddress", "127.0.0.1")
                .conf("spark.sql.shuffle.partitions", "4")
                .workDir(notebooksDir().resolve("target/notebook-runs"));
    }
}
