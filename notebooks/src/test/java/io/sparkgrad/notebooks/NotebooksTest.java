package io.sparkgrad.notebooks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every notebook of the project, run end to end on local[2] as a Databricks cluster would run it:
 * the notebooks' own {@code assert}s check their results, and a run that returns is a run in which
 * every cell compiled, ran and held.
 */
class NotebooksTest {
    static final String TUTORIAL = "01-autograd-tutorial.scala";
    static final String FASHION_MNIST = "02-fashion-mnist-distributed.scala";
    static final String CUSTOM_CNN = "03-custom-cnn-checkpoint-resume.scala";
    /** The notebooks this class runs; a new notebook must be added here (see {@link #everyNotebookIsRun}). */
    static final List<String> ALL = List.of(TUTORIAL, FASHION_MNIST, CUSTOM_CNN);

    static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    @Test
    void everyNotebookIsRun() throws Exception {
        List<String> found = TestRunners.projectNotebooks().stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(ALL, found, "each notebook in notebooks/ needs a test here");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void autogradTutorial() throws Exception {
        Notebook nb = Notebook.read(TestRunners.notebooksDir().resolve(TUTORIAL));
        RunReport report = TestRunners.runner("local[2]").build().run(nb);

        assertEquals(nb.cells().size(), report.cells().size());
        String out = report.output();
        assertTrue(out.contains("Gradient function for z = <AddBackward0>"), out);
        assertTrue(out.contains("Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0>"), out);
        assertTrue(out.contains("Call after zeroing gradients"), out);
        assertTrue(out.contains("4 partitions vs one process"), out);
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void fashionMnistWithTheEstimator() throws Exception {
        assumeFashionMnist();
        Path modelDir = TestRunners.notebooksDir().resolve("target/notebook-output/fashion-mnist-model");
        Notebook nb = Notebook.read(TestRunners.notebooksDir().resolve(FASHION_MNIST));
        RunReport report = TestRunners.runner("local[2]")
                .conf("spark.sparkgrad.fashionMnist.dir", FASHION_MNIST_DIR.toString())
                .conf("spark.sparkgrad.notebook.modelDir", modelDir.toString())
                .build()
                .run(nb);

        String out = report.output();
        assertTrue(out.contains("test accuracy: 0."), out);
        assertTrue(out.contains("predictions that changed after reloading: 0"), out);
        assertTrue(Files.isRegularFile(modelDir.resolve("data/weights.safetensors")), "the model was saved");
    }

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void customCnnWithCheckpointAndResume() throws Exception {
        assumeFashionMnist();
        Path workDir = TestRunners.notebooksDir().resolve("target/notebook-output/small-cnn-local");
        RunReport report = customCnn(TestRunners.runner("local[2]"), workDir);

        assertTrue(report.output().contains("resumed and uninterrupted runs agree"), report.output());
        assertTrue(Files.isRegularFile(workDir.resolve("small-cnn.safetensors")), "the weights were saved");
    }

    /** Runs the custom-CNN notebook with its data and work directory set. */
    static RunReport customCnn(NotebookRunner.Builder runner, Path workDir) throws Exception {
        Notebook nb = Notebook.read(TestRunners.notebooksDir().resolve(CUSTOM_CNN));
        return runner.conf("spark.sparkgrad.fashionMnist.dir", FASHION_MNIST_DIR.toString())
                .conf("spark.sparkgrad.notebook.checkpointDir", workDir.toAbsolutePath().toString())
                .build()
                .run(nb);
    }

    static void assumeFashionMnist() {
        assumeTrue(Files.isRegularFile(FASHION_MNIST_DIR.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed in " + FASHION_MNIST_DIR + " (apt-get install dataset-fashion-mnist);"
                        + " the notebooks that train on it are skipped");
    }
}
