/**
 * Neural-network building blocks, as {@code torch.nn}: {@link io.sparkgrad.nn.Module} with its
 * parameters, buffers and PyTorch-compatible state dict; layers ({@link io.sparkgrad.nn.Linear},
 * {@link io.sparkgrad.nn.Conv2d}, pooling, normalisation, {@link io.sparkgrad.nn.Dropout},
 * {@link io.sparkgrad.nn.Embedding}, activations); {@link io.sparkgrad.nn.Sequential}; and losses
 * ({@link io.sparkgrad.nn.Loss} and its subclasses). The computations themselves live in
 * {@link io.sparkgrad.functional.F}; a module holds state and calls them.
 */
package io.sparkgrad.nn;
