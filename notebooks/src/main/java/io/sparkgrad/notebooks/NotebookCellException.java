package io.sparkgrad.notebooks;

/**
 * A notebook cell that did not compile or threw: the run stops at the first one. The message
 * names the notebook, the cell number (as Databricks numbers cells, markdown included), the line
 * of the notebook file where the failing statement begins, and what the Scala REPL reported.
 */
public final class NotebookCellException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String notebook;
    private final int cell;
    private final int line;
    private final String statement;
    private final String output;

    NotebookCellException(String notebook, int cell, int line, String statement, String problem, String output,
            Throwable cause) {
        super(notebook + ": cell " + cell + " failed at line " + line + " (" + firstLine(statement) + "): " + problem
                + (output.isBlank() ? "" : "\n" + output.strip()), cause);
        this.notebook = notebook;
        this.cell = cell;
        this.line = line;
        this.statement = statement;
        this.output = output;
    }

    private static String firstLine(String statement) {
        String s = statement.strip();
        int nl = s.indexOf('\n');
        String first = nl < 0 ? s : s.substring(0, nl) + " ...";
        return first.length() <= 100 ? first : first.substring(0, 97) + "...";
    }

    /** The notebook's name. */
    public String notebook() {
        return notebook;
    }

    /** The failing cell's number, from 1, markdown cells counted. */
    public int cell() {
        return cell;
    }

    /** The line of the notebook file where the failing statement begins, from 1. */
    public int line() {
        return line;
    }

    /** The statement the REPL rejected or that threw. */
    public String statement() {
        return statement;
    }

    /** What the REPL printed for the statement (the compiler's errors, or the exception and its trace). */
    public String output() {
        return output;
    }
}
