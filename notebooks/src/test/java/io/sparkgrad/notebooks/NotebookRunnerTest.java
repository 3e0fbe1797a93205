package io.sparkgrad.notebooks;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runner on small notebooks: what runs, what is skipped, and how a failing cell is reported. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NotebookRunnerTest {

    @Test
    void runsCodeCellsStatementByStatementAndSkipsMarkdown() throws Exception {
        ByteArrayOutputStream echo = new ByteArrayOutputStream();
        RunReport report = TestRunners.runner("local[2]")
                .echo(new PrintStream(echo, true, StandardCharsets.UTF_8))
                .build()
                .run(Notebook.read(TestRunners.testNotebook("small.scala")));

        assertEquals(5, report.cells().size());
        assertEquals(Cell.Kind.MARKDOWN, report.cell(1).kind());
        assertEquals(0, report.cell(1).statements(), "markdown is not run");
        assertEquals(4, report.codeCellsRun());
        // import, val spark, val master
        assertEquals(3, report.cell(2).statements());
        // the class and its companion go to the REPL together, then the val and the assert
        assertEquals(3, report.cell(3).statements());
        // a val spread over three lines is one statement
        assertEquals(2, report.cell(4).statements());
        // the pattern val is one statement, and so are two statements sharing a line
        assertEquals(4, report.cell(5).statements());
        assertTrue(report.cell(2).output().contains("val master: String = local[2]"),
                "the notebook's getOrCreate() sees the runner's master: " + report.cell(2).output());
        assertTrue(report.cell(4).output().contains("squares: 1,4,9,16,25"), report.cell(4).output());
        assertTrue(echo.toString(StandardCharsets.UTF_8).contains("squares: 1,4,9,16,25"), "output is echoed as it runs");
        assertTrue(SparkSession.getDefaultSession().isEmpty(), "the session the notebook made is stopped");
        assertNull(System.getProperty("spark.master"), "the runner's settings do not outlive the run");
    }

    @Test
    void aFailingAssertionNamesTheCellAndLineAndStopsTheRun() throws Exception {
        NotebookCellException e = assertThrows(NotebookCellException.class, () -> TestRunners.runner("local[1]")
                .echo(quiet())
                .build()
                .run(Notebook.read(TestRunners.testNotebook("failing-assertion.scala"))));

        assertEquals("failing-assertion", e.notebook());
        assertEquals(3, e.cell(), "markdown cells count, as Databricks numbers them");
        assertEquals(12, e.line(), "the line of the failing statement in the file");
        assertTrue(e.getMessage().startsWith("failing-assertion: cell 3 failed at line 12"), e.getMessage());
        assertTrue(e.getMessage().contains("assertion failed: b is 2, not 3"), e.getMessage());
        assertTrue(e.getCause() instanceof AssertionError, "the notebook's exception is the cause: " + e.getCause());
        assertFalse(e.output().contains("neverReached"), "nothing after the failing statement runs");
        assertNull(System.getProperty("spark.master"));
    }

    @Test
    void aCompileErrorNamesTheCellAndTheCompilersMessage() throws Exception {
        NotebookCellException e = assertThrows(NotebookCellException.class, () -> TestRunners.runner("local[1]")
                .echo(quiet())
                .build()
                .run(Notebook.read(TestRunners.testNotebook("failing-compile.scala"))));

        assertEquals(2, e.cell());
        assertEquals(6, e.line());
        assertTrue(e.getMessage().contains("does not compile"), e.getMessage());
        assertTrue(e.getMessage().contains("type mismatch"), e.getMessage());
    }

    @Test
    void aCellThatDoesNotParseFailsBeforeAnyOfItRuns() {
        Notebook nb = Notebook.parse("unbalanced", Notebook.HEADER + "\nprintln(\"first\")\n\n" + Notebook.SEPARATOR
                + "\n\nprintln(\"ran\")\nval x = List(1, 2\n");
        ByteArrayOutputStream echo = new ByteArrayOutputStream();
        NotebookCellException e = assertThrows(NotebookCellException.class, () -> TestRunners.runner("local[1]")
                .echo(new PrintStream(echo, true, StandardCharsets.UTF_8))
                .build()
                .run(nb));

        assertEquals(2, e.cell());
        assertTrue(e.getMessage().contains("unfinished statement"), e.getMessage());
        assertTrue(echo.toString(StandardCharsets.UTF_8).contains("first"));
        assertFalse(echo.toString(StandardCharsets.UTF_8).contains("ran\n"), "no statement of a cell that does not parse runs");
    }

    @Test
    void otherMagicsAreRefusedWithTheirCell() {
        Notebook nb = Notebook.parse("shell", Notebook.HEADER + "\nval a = 1\n\n" + Notebook.SEPARATOR
                + "\n\n// MAGIC %sh\n// MAGIC ls /\n");
        NotebookCellException e = assertThrows(NotebookCellException.class,
                () -> TestRunners.runner("local[1]").echo(quiet()).build().run(nb));

        assertEquals(2, e.cell());
        assertTrue(e.getMessage().contains("%sh cells run only on Databricks"), e.getMessage());
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
