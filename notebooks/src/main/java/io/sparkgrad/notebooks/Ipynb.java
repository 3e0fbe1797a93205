package io.sparkgrad.notebooks;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@link Notebook} as a Jupyter notebook (nbformat 4.5) for a Scala kernel such as almond:
 * {@code %md} cells become markdown cells, code cells become code cells with the same source, in
 * the same order, one for one; a cell's Databricks title goes into its metadata. Other magics
 * ({@code %sh}…) become raw cells, which Jupyter shows but does not run. No outputs are written.
 *
 * <pre>{@code
 * String json = Ipynb.of(Notebook.read(Path.of("notebooks/01-autograd-tutorial.scala")));
 * }</pre>
 *
 * From the command line: {@code notebooks/notebook.sh ipynb [-o DIR] [NOTEBOOK.scala...]} (see {@link Main}).
 */
public final class Ipynb {
    /** The Scala version the cells are written for: Spark's. */
    static final String SCALA_VERSION = scala.util.Properties.versionNumberString();
    private static final ObjectMapper JSON = new ObjectMapper();

    private Ipynb() {
    }

    /** The notebook as {@code .ipynb} JSON text. */
    public static String of(Notebook notebook) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode cells = root.putArray("cells");
        for (Cell c : notebook.cells()) {
            ObjectNode cell = cells.addObject();
            cell.put("cell_type", switch (c.kind()) {
                case CODE -> "code";
                case MARKDOWN -> "markdown";
                case MAGIC -> "raw";
            });
            cell.put("id", String.format("cell-%03d", c.number()));
            ObjectNode meta = cell.putObject("metadata");
            if (!c.title().isEmpty()) {
                meta.put("title", c.title());
            }
            if (c.kind() == Cell.Kind.MAGIC) {
                meta.put("databricks_magic", "%" + c.magic());
            }
            ArrayNode source = cell.putArray("source");
            sourceLines(c.source()).forEach(source::add);
            if (c.kind() == Cell.Kind.CODE) {
                cell.putNull("execution_count");
                cell.putArray("outputs");
            }
        }
        ObjectNode meta = root.putObject("metadata");
        ObjectNode kernel = meta.putObject("kernelspec");
        kernel.put("display_name", "Scala");
        kernel.put("language", "scala");
        kernel.put("name", "scala");
        ObjectNode lang = meta.putObject("language_info");
        lang.put("codemirror_mode", "text/x-scala");
        lang.put("file_extension", ".sc");
        lang.put("mimetype", "text/x-scala");
        lang.put("name", "scala");
        lang.put("nbconvert_exporter", "script");
        lang.put("version", SCALA_VERSION);
        meta.putObject("sparkgrad").put("source", notebook.name() + ".scala");
        root.put("nbformat", 4);
        root.put("nbformat_minor", 5);
        try {
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter(" ", "\n"))
                    .withArrayIndenter(new DefaultIndenter(" ", "\n"));
            return JSON.writer(printer).writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Jupyter's form of a cell's text: its lines, each but the last keeping its {@code \n}. */
    static List<String> sourceLines(String text) {
        List<String> lines = new ArrayList<>();
        if (text.isEmpty()) {
            return lines;
        }
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                lines.add(text.substring(start, i + 1));
                start = i + 1;
            }
        }
        if (start < text.length()) {
            lines.add(text.substring(start));
        }
        return lines;
    }
}
