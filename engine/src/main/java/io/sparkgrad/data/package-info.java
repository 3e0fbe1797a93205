/**
 * Getting training data into tensors on one machine: {@link io.sparkgrad.data.IdxReader} for the
 * IDX files of the MNIST family, {@link io.sparkgrad.data.TensorDataset} for examples held in
 * memory, and {@link io.sparkgrad.data.DataLoader} for PyTorch-style seeded, shuffled mini-batches
 * over them. The Spark connector feeds partitions instead; these are for local runs, tests and
 * examples.
 */
package io.sparkgrad.data;
