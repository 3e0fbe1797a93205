/**
 * Optimizers, learning-rate schedules and gradient clipping, after {@code torch.optim} of
 * PyTorch 1.13: {@link io.sparkgrad.optim.SGD}, {@link io.sparkgrad.optim.Adam},
 * {@link io.sparkgrad.optim.AdamW}, {@link io.sparkgrad.optim.RMSprop};
 * {@link io.sparkgrad.optim.StepLR}, {@link io.sparkgrad.optim.CosineAnnealingLR},
 * {@link io.sparkgrad.optim.LinearLR}, {@link io.sparkgrad.optim.SequentialLR};
 * {@link io.sparkgrad.optim.ClipGrad#clipGradNorm_}.
 *
 * <p>Updates follow PyTorch's single-tensor update rules operation for operation, run in place
 * under no-grad in one fused pass per parameter, and are tested against trajectories written by
 * PyTorch ({@code scripts/gen-optim-golden.py}). Optimizer state ({@link io.sparkgrad.optim.StateDict})
 * is tensors plus string metadata, the two things a safetensors file holds, and restoring it
 * continues a run bit for bit.
 */
package io.sparkgrad.optim;
