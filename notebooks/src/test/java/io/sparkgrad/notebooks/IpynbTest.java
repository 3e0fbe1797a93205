package io.sparkgrad.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The Jupyter versions of the notebooks keep every cell, in order, with its kind and its text. */
class IpynbTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyCellOfEveryNotebookIsKept() throws Exception {
        for (Path p : projectNotebooks()) {
            Notebook nb = Notebook.read(p);
            JsonNode root = JSON.readTree(Ipynb.of(nb));

            assertEquals(4, root.get("nbformat").asInt());
            assertEquals("scala", root.at("/metadata/kernelspec/language").asText());
            assertEquals(Ipynb.SCALA_VERSION, root.at("/metadata/language_info/version").asText());
            JsonNode cells = root.get("cells");
            assertEquals(nb.cells().size(), cells.size(), p + ": one Jupyter cell per Databricks cell");
            for (Cell c : nb.cells()) {
                JsonNode j = cells.get(c.number() - 1);
                assertEquals(c.kind() == Cell.Kind.CODE ? "code" : "markdown", j.get("cell_type").asText(),
                        p + " cell " + c.number());
                StringBuilder text = new StringBuilder();
                j.get("source").forEach(line -> text.append(line.asText()));
                assertEquals(c.source(), text.toString(), p + " cell " + c.number());
            }
        }
    }

    @Test
    void magicsTitlesAndEmptyCellsSurvive() throws Exception {
        Notebook nb = Notebook.parse("demo", String.join("\n", Notebook.HEADER, "// DBTITLE 1,Setup", "val a = 1", "",
                Notebook.SEPARATOR, "", "// MAGIC %sh", "// MAGIC ls", "", Notebook.SEPARATOR, "", ""));
        JsonNode cells = JSON.readTree(Ipynb.of(nb)).get("cells");

        assertEquals(3, cells.size());
        assertEquals("Setup", cells.get(0).at("/metadata/title").asText());
        assertEquals("raw", cells.get(1).get("cell_type").asText(), "Jupyter shows a %sh cell but does not run it");
        assertEquals("%sh", cells.get(1).at("/metadata/databricks_magic").asText());
        assertEquals(0, cells.get(2).get("source").size());
        assertEquals(List.of("a\n", "b\n", "c"), Ipynb.sourceLines("a\nb\nc"));
    }

    @Test
    void theCommandLineWritesOneFilePerNotebook() throws Exception {
        Path out = TestRunners.notebooksDir().resolve("target/ipynb-test");
        List<Path> notebooks = projectNotebooks();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int code = Main.run(Stream.concat(Stream.of("ipynb", "-o", out.toString()), notebooks.stream().map(Path::toString))
                .toArray(String[]::new), new PrintStream(stdout, true, StandardCharsets.UTF_8), System.err);

        assertEquals(0, code);
        for (Path p : notebooks) {
            Path written = out.resolve(p.getFileName().toString().replace(".scala", ".ipynb"));
            assertEquals(Ipynb.of(Notebook.read(p)), Files.readString(written, StandardCharsets.UTF_8));
            assertTrue(stdout.toString(StandardCharsets.UTF_8).contains(written.toString()));
        }
    }

    /** Jupyter's own validator, where Debian's python3-nbformat is installed. */
    @Test
    void jupyterAcceptsThem() throws Exception {
        assumeTrue(python("import nbformat") == 0,
                "python3-nbformat is not installed (apt-get install python3-nbformat); schema check skipped");
        for (Path p : projectNotebooks()) {
            Path file = TestRunners.notebooksDir().resolve("target/ipynb-validate").resolve(p.getFileName() + ".ipynb");
            Files.createDirectories(file.getParent());
            Files.writeString(file, Ipynb.of(Notebook.read(p)), StandardCharsets.UTF_8);
            assertEquals(0, python("import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))",
                    file.toString()), p + " fails nbformat's schema");
        }
    }

    private static int python(String... args) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            return -1;
        }
        String[] cmd = Stream.concat(Stream.of(python.toString(), "-c"), Stream.of(args)).toArray(String[]::new);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private static List<Path> projectNotebooks() throws Exception {
        List<Path> found = TestRunners.projectNotebooks();
        assertFalse(found.isEmpty(), "no notebook found in " + TestRunners.notebooksDir());
        return found;
    }
}
