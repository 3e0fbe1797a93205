/**
 * Runs the project's Databricks notebooks outside Databricks, for real: {@link io.sparkgrad.notebooks.Notebook}
 * reads Databricks' Scala source format into {@link io.sparkgrad.notebooks.Cell}s, and
 * {@link io.sparkgrad.notebooks.NotebookRunner} runs the code cells statement by statement in an embedded
 * Scala 2.13 REPL in class-based mode, so that Spark executors load the classes the cells define.
 * A failing cell stops the run with a {@link io.sparkgrad.notebooks.NotebookCellException} that names
 * it.
 */
package io.sparkgrad.notebooks;
