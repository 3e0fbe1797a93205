/**
 * The trainer's data path: a DataFrame's rows, checked once and converted once into Arrow record
 * batches ({@link io.sparkgrad.spark.data.RowConverter}, {@link io.sparkgrad.spark.data.ArrowCodec}),
 * cached by Spark as IPC bytes ({@link io.sparkgrad.spark.data.ConvertedData} says why not as
 * vectors), decoded once per executor into the heap arrays engine tensors wrap
 * ({@link io.sparkgrad.spark.data.PartitionData}, {@link io.sparkgrad.spark.data.DecodedCache}).
 * Invalid rows fail with an {@link io.sparkgrad.spark.data.InvalidRowException} naming column,
 * problem, partition and row, or are skipped and counted by
 * {@link io.sparkgrad.spark.data.InvalidReason}.
 */
package io.sparkgrad.spark.data;
