package io.sparkgrad.notebooks;

import java.util.Objects;

/**
 * One cell of a {@link Notebook}, as Databricks numbers and shows it.
 *
 * @param number    the cell's position from 1, markdown cells included (Databricks' "Cmd N")
 * @param kind      what the cell holds
 * @param magic     for {@link Kind#MAGIC} and {@link Kind#MARKDOWN} cells the magic command without its
 *                  {@code %} ({@code "md"}, {@code "sh"}, {@code "sql"}…), otherwise empty
 * @param title     the cell's title from a {@code // DBTITLE 1,…} line, or empty
 * @param source    the cell's text: Scala code, or for magic cells the lines after the magic
 *                  command with the {@code // MAGIC } prefix removed
 * @param firstLine the line of the notebook file (from 1) where {@link #source} begins
 */
public record Cell(int number, Kind kind, String magic, String title, String source, int firstLine) {

    /** What a cell holds. */
    public enum Kind {
        /** Scala code, run by the notebook runner. */
        CODE,
        /** Markdown ({@code %md} or {@code %md-sandbox}), shown but not run. */
        MARKDOWN,
        /** Another magic command ({@code %sh}, {@code %sql}, {@code %python}, {@code %run}…), which the runner cannot run. */
        MAGIC
    }

    public Cell {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(magic, "magic");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(source, "source");
    }

    /** The cell's lines ({@link #source} split at line ends), for converters that keep lines apart. */
    public String[] lines() {
        return source.isEmpty() ? new String[0] : source.split("\n", -1);
    }
}
