package io.sparkgrad.notebooks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every notebook of the project, run end to end on local[2] as a Databricks cluster would run it:
 * the notebooks' own {@code assert}s check their results, and a run that returns is a run in which
 * every cell compiled, ran and held.
 */
class NotebooksTest {
    static final String TUTORIAL = "01-autograd-tutorial.scala";
    /** The notebooks this class runs; a new notebook must be added here (see {@link #everyNotebookIsRun}). */
    static final List<String> ALL = List.of(TUTORIAL);

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
}
