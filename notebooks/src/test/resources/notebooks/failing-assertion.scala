// Databricks notebook source
val a = 1

// COMMAND ----------

// MAGIC %md
// MAGIC The next cell fails.

// COMMAND ----------

val b = a + 1
assert(b == 3, s"b is $b, not 3")
val neverReached = 0

// COMMAND ----------

val notRun = 1
