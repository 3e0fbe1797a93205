package io.sparkgrad.notebooks;

/** A notebook file that is not in Databricks' Scala source format; the message names the cell and line. */
public final class NotebookFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public NotebookFormatException(String message) {
        super(message);
    }
}
