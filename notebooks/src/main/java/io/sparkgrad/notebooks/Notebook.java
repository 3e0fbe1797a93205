package io.sparkgrad.notebooks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Scala notebook in Databricks' source format, the form a workspace exports ("Export → Source
 * file") and imports unchanged:
 *
 * <pre>
 * // Databricks notebook source
 * // MAGIC %md
 * // MAGIC # A title
 *
 * // COMMAND ----------
 *
 * val x = 1 + 1
 * </pre>
 *
 * The first line names the format; a line {@code // COMMAND ----------} separates cells; every
 * line of a magic cell starts with {@code // MAGIC} and its first names the magic ({@code %md} for
 * markdown); a code cell may start with {@code // DBTITLE 1,<title>}.
 *
 * <pre>{@code
 * Notebook nb = Notebook.read(Path.of("notebooks/01-autograd-tutorial.scala"));
 * nb.cells().stream().filter(c -> c.kind() == Cell.Kind.CODE).count();
 * }</pre>
 */
public final class Notebook {
    /** The first line of every Scala notebook in source format. */
    public static final String HEADER = "// Databricks notebook source";
    /** The line between two cells. */
    public static final String SEPARATOR = "// COMMAND ----------";
    static final String MAGIC = "// MAGIC";
    static final String TITLE = "// DBTITLE ";

    private final String name;
    private final List<Cell> cells;

    public Notebook(String name, List<Cell> cells) {
        this.name = Objects.requireNonNull(name, "name");
        this.cells = List.copyOf(cells);
    }

    /** Reads and parses a notebook file; its name is the file name without {@code .scala}. */
    public static Notebook read(Path file) throws IOException {
        String fileName = file.getFileName().toString();
        String name = fileName.endsWith(".scala") ? fileName.substring(0, fileName.length() - ".scala".length()) : fileName;
        return parse(name, Files.readString(file, StandardCharsets.UTF_8));
    }

    /**
     * Parses notebook text.
     *
     * @param name used in messages (and as the Spark application name by the runner)
     * @throws NotebookFormatException when the text is not a Databricks Scala source notebook
     */
    public static Notebook parse(String name, String text) {
        String normalized = text.replace("\r\n", "\n");
        if (normalized.startsWith("\uFEFF")) {
            normalized = normalized.substring(1);
        }
        String[] lines = normalized.split("\n", -1);
        if (!lines[0].strip().equals(HEADER)) {
            throw new NotebookFormatException(name + " is not a Databricks Scala notebook in source format: its first line"
                    + " must be \"" + HEADER + "\", found \"" + abbreviate(lines[0]) + "\"");
        }
        List<Cell> cells = new ArrayList<>();
        int start = 1;
        for (int i = 1; i <= lines.length; i++) {
            if (i == lines.length || lines[i].strip().equals(SEPARATOR)) {
                cells.add(cell(name, cells.size() + 1, lines, start, i));
                start = i + 1;
            }
        }
        return new Notebook(name, cells);
    }

    /** One cell from {@code lines[from, to)} (0-based indices into the file's lines). */
    private static Cell cell(String notebook, int number, String[] lines, int from, int to) {
        while (from < to && lines[from].isBlank()) {
            from++;
        }
        while (to > from && lines[to - 1].isBlank()) {
            to--;
        }
        String title = "";
        if (from < to && lines[from].startsWith(TITLE)) {
            String t = lines[from].substring(TITLE.length());
            int comma = t.indexOf(',');
            title = comma < 0 ? t.strip() : t.substring(comma + 1).strip();
            from++;
        }
        if (from < to && isMagic(lines[from])) {
            List<String> body = new ArrayList<>();
            for (int i = from; i < to; i++) {
                if (!isMagic(lines[i])) {
                    throw new NotebookFormatException(notebook + ", cell " + number + " (line " + (i + 1) + "): every line"
                            + " of a magic cell must start with \"" + MAGIC + "\", found \"" + abbreviate(lines[i]) + "\"");
                }
                body.add(unmagic(lines[i]));
            }
            String command = body.get(0).strip();
            if (!command.startsWith("%") || command.length() < 2) {
                throw new NotebookFormatException(notebook + ", cell " + number + " (line " + (from + 1) + "): a magic cell"
                        + " must begin with a magic command such as %md, found \"" + abbreviate(command) + "\"");
            }
            int space = indexOfWhitespace(command);
            String magic = command.substring(1, space < 0 ? command.length() : space);
            // Text after the command on its own line ("%md # Title") belongs to the body, as Databricks shows it.
            List<String> content = new ArrayList<>();
            if (space >= 0) {
                content.add(command.substring(space).strip());
            }
            content.addAll(body.subList(1, body.size()));
            Cell.Kind kind = magic.equals("md") || magic.equals("md-sandbox") ? Cell.Kind.MARKDOWN : Cell.Kind.MAGIC;
            return new Cell(number, kind, magic, title, String.join("\n", content), from + 2);
        }
        return new Cell(number, Cell.Kind.CODE, "", title, String.join("\n", List.of(lines).subList(from, to)), from + 1);
    }

    private static boolean isMagic(String line) {
        return line.equals(MAGIC) || line.startsWith(MAGIC + " ");
    }

    private static String unmagic(String line) {
        return line.length() <= MAGIC.length() ? "" : line.substring(MAGIC.length() + 1);
    }

    private static int indexOfWhitespace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    public String name() {
        return name;
    }

    public List<Cell> cells() {
        return cells;
    }

    /** The cell numbered {@code number} (from 1). */
    public Cell cell(int number) {
        return cells.get(number - 1);
    }

    /** The notebook in source format again, as Databricks would export it. */
    public String toSource() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (int i = 0; i < cells.size(); i++) {
            Cell c = cells.get(i);
            if (i > 0) {
                b.append('\n').append(SEPARATOR).append("\n\n");
            }
            if (!c.title().isEmpty()) {
                b.append(TITLE).append("1,").append(c.title()).append('\n');
            }
            if (c.kind() == Cell.Kind.CODE) {
                b.append(c.source()).append('\n');
            } else {
                b.append(MAGIC).append(" %").append(c.magic()).append('\n');
                for (String line : c.lines()) {
                    b.append(line.isEmpty() ? MAGIC : MAGIC + " " + line).append('\n');
                }
            }
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return "Notebook(" + name + ", " + cells.size() + " cells)";
    }
}
