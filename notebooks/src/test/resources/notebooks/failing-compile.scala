// Databricks notebook source
val a = 1

// COMMAND ----------

val c: String = a
