package io.sparkgrad.notebooks;

import java.util.List;

/**
 * What a successful {@link NotebookRunner#run} did, cell by cell.
 *
 * @param notebook the notebook's name
 * @param cells    one entry per cell, in order
 * @param seconds  the whole run's wall time
 */
public record RunReport(String notebook, List<CellRun> cells, double seconds) {

    public RunReport {
        cells = List.copyOf(cells);
    }

    /**
     * One cell of the run.
     *
     * @param number     the cell's number, from 1
     * @param kind       what the cell holds
     * @param statements how many statements were run (0 for a markdown or empty cell)
     * @param seconds    wall time spent on the cell
     * @param output     what the cell printed and what the REPL echoed ({@code val x: Int = 2})
     */
    public record CellRun(int number, Cell.Kind kind, int statements, double seconds, String output) {
    }

    /** The entry of cell {@code number} (from 1). */
    public CellRun cell(int number) {
        return cells.get(number - 1);
    }

    /** How many code cells ran. */
    public long codeCellsRun() {
        return cells.stream().filter(c -> c.statements() > 0).count();
    }

    /** Everything the run printed, cells in order. */
    public String output() {
        StringBuilder b = new StringBuilder();
        for (CellRun c : cells) {
            b.append(c.output());
        }
        return b.toString();
    }
}
