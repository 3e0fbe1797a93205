package io.sparkgrad.notebooks;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Databricks' source format: cells, magics, titles, line numbers, and the way back. */
class NotebookTest {
    private static final String SOURCE = String.join("\n",
            "// Databricks notebook source",
            "// MAGIC %md",
            "// MAGIC # Title",
            "// MAGIC",
            "// MAGIC Some *text*.",
            "",
            "// COMMAND ----------",
            "",
            "val x = 1",
            "",
            "val y = x + 1",
            "",
            "// COMMAND ----------",
            "",
            "// DBTITLE 1,Shell, with a comma",
            "// MAGIC %sh ls -l",
            "",
            "// COMMAND ----------",
            "",
            "",
            "// COMMAND ----------",
            "",
            "// DBTITLE 1,Last",
            "println(y)",
            "");

    @Test
    void splitsCellsAsDatabricksExportsThem() {
        Notebook nb = Notebook.parse("demo", SOURCE);

        assertEquals(5, nb.cells().size());
        Cell md = nb.cell(1);
        assertEquals(Cell.Kind.MARKDOWN, md.kind());
        assertEquals("md", md.magic());
        assertEquals("# Title\n\nSome *text*.", md.source());
        assertEquals(3, md.firstLine());

        Cell code = nb.cell(2);
        assertEquals(Cell.Kind.CODE, code.kind());
        assertEquals("val x = 1\n\nval y = x + 1", code.source());
        assertEquals(9, code.firstLine());

        Cell sh = nb.cell(3);
        assertEquals(Cell.Kind.MAGIC, sh.kind());
        assertEquals("sh", sh.magic());
        assertEquals("Shell, with a comma", sh.title());
        assertEquals("ls -l", sh.source(), "text after the magic on its line belongs to the body");

        assertEquals("", nb.cell(4).source(), "an empty cell still counts");
        assertEquals("Last", nb.cell(5).title());
        assertEquals("println(y)", nb.cell(5).source());
        assertEquals(24, nb.cell(5).firstLine());
    }

    @Test
    void windowsLineEndsAndAByteOrderMarkAreAccepted() {
        Notebook nb = Notebook.parse("crlf", "\uFEFF" + SOURCE.replace("\n", "\r\n"));
        assertEquals(5, nb.cells().size());
        assertEquals("val x = 1\n\nval y = x + 1", nb.cell(2).source());
    }

    @Test
    void writesBackWhatItRead() {
        Notebook nb = Notebook.parse("demo", SOURCE);
        Notebook again = Notebook.parse("demo", nb.toSource());
        assertEquals(nb.cells().size(), again.cells().size());
        for (Cell c : nb.cells()) {
            Cell d = again.cell(c.number());
            assertEquals(List.of(c.kind(), c.magic(), c.title(), c.source()),
                    List.of(d.kind(), d.magic(), d.title(), d.source()), "cell " + c.number());
        }
    }

    @Test
    void everyProjectNotebookSurvivesTheRoundTrip() throws Exception {
        List<Path> notebooks = TestRunners.projectNotebooks();
        assertFalse(notebooks.isEmpty(), "no notebook found in " + TestRunners.notebooksDir());
        for (Path p : notebooks) {
            String text = Files.readString(p);
            Notebook nb = Notebook.read(p);
            assertEquals(text, nb.toSource(), p + " is exactly in the form Databricks exports");
            assertTrue(nb.cells().stream().anyMatch(c -> c.kind() == Cell.Kind.MARKDOWN), p + " explains itself");
            assertTrue(nb.cells().stream().noneMatch(c -> c.kind() == Cell.Kind.MAGIC),
                    p + " uses only Scala and %md cells, which the tests run");
        }
    }

    @Test
    void rejectsFilesThatAreNotSourceNotebooks() {
        NotebookFormatException e = assertThrows(NotebookFormatException.class,
                () -> Notebook.parse("plain", "object A extends App\n"));
        assertTrue(e.getMessage().contains("first line must be \"// Databricks notebook source\""), e.getMessage());
    }

    @Test
    void rejectsAMagicCellWithAPlainLine() {
        NotebookFormatException e = assertThrows(NotebookFormatException.class, () -> Notebook.parse("mixed",
                "// Databricks notebook source\n// MAGIC %md\n// MAGIC fine\nnot magic\n"));
        assertTrue(e.getMessage().startsWith("mixed, cell 1 (line 4)"), e.getMessage());
    }

    @Test
    void rejectsAMagicCellWithoutACommand() {
        NotebookFormatException e = assertThrows(NotebookFormatException.class,
                () -> Notebook.parse("bare", "// Databricks notebook source\n// MAGIC just text\n"));
        assertTrue(e.getMessage().contains("must begin with a magic command"), e.getMessage());
    }
}
