// Databricks notebook source
// MAGIC %md
// MAGIC # A small notebook for the runner's own tests
// MAGIC
// MAGIC Markdown cells are skipped; code cells share one REPL session.

// COMMAND ----------

import org.apache.spark.sql.SparkSession

val spark = SparkSession.builder().getOrCreate()
val master = spark.sparkContext.master

// COMMAND ----------

// DBTITLE 1,A class and its companion in one cell, used inside a Spark closure
case class Point(x: Int, y: Int) {
  def norm1: Int = math.abs(x) + math.abs(y)
}
object Point {
  def diagonal(i: Int): Point = Point(i, -i)
}

val total = spark.sparkContext
  .parallelize(1 to 100, 4)
  .map(i => Point.diagonal(i).norm1)
  .reduce(_ + _)
assert(total == 10100, s"total = $total")

// COMMAND ----------

// A multi-line expression split over lines, and a value the next cell reads
val squares = (1 to 5)
  .map(i => i * i)
  .toList
println(s"squares: ${squares.mkString(",")}")

// COMMAND ----------

assert(squares.sum == 55)
// A pattern definition (the parser turns it into several trees) and two statements on one line
val (lo, hi) = (squares.head, squares.last)
val a1 = lo; val a2 = hi
assert(a1 + a2 == 26)
