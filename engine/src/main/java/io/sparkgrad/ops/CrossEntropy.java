package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.Parallel;
import io.sparkgrad.backend.SoftmaxKernel;
import io.sparkgrad.functional.Reduction;

/**
 * Cross-entropy of logits {@code [N, C]} against class indices, fused: log-softmax and the NLL
 * loss in one pass per row, without materialising the log-probabilities. Its twin, composed of
 * {@link LogSoftmax} and {@link NllLoss}, is tested against it. The node takes PyTorch's name for
 * a cross-entropy result, NllLossBackward0.
 * <br>{@code x: (softmax(x) - onehot(t)) * s_i * grad}, where {@code s_i = w[t_i]} (divided by
 * the total weight for the mean; 0 for ignored rows).
 */
public final class CrossEntropy extends Node {
    private SavedTensor input;
    private Tensor rowScale;
    private long[] labels;
    private Reduction reduction;

    private CrossEntropy() {
        super("NllLossBackward0");
    }

    public static Tensor apply(Tensor x, Tensor target, Tensor weight, Reduction reduction, long ignoreIndex) {
        Ops.requireFloat("crossEntropy", x);
        if (x.dim() != 2) {
            throw new IllegalArgumentException("crossEntropy: the fused kernel takes logits of shape [N, C], got "
                    + Shapes.str(x.shape()));
        }
        if (x.storage().onDevice()) {
            // On a device: the composed twin (log-softmax and NLL kernels), same values and gradients.
            return NllLoss.apply(LogSoftmax.apply(x, 1), target, weight, reduction, ignoreIndex);
        }
        ClassTargets targets = ClassTargets.of("crossEntropy", x, target, weight, reduction, ignoreIndex);
        int n = targets.rows;
        int c = targets.classes;
        Tensor logits = Ops.cast(x.contiguousData(), x.dtype());
        double[] perRow = new double[n];
        // loss_i = scale_i · (x[i, t_i] - logsumexp(x[i])), scale_i = -w[t_i] (or its share of the mean).
        Parallel.forRange(n, Math.max(1, 4096 / Math.max(1, c)), (rs, re) -> {
            for (int i = rs; i < re; i++) {
                double lse = SoftmaxKernel.logSumExp(logits, i * c + logits.storageOffset(), c);
                double picked = logits.storage().getAsDouble(logits.storageOffset() + i * c + (int) targets.safeLabels[i]);
                perRow[i] = targets.scale[i] == 0 ? 0 : targets.scale[i] * (picked - lse);
            }
        });
        Tensor out;
        if (reduction == Reduction.NONE) {
            out = Ops.cast(Tensor.of(perRow, n), x.dtype());
        } else {
            double total = 0;
            for (double v : perRow) {
                total += v;
            }
            out = Tensor.scalar(total, x.dtype());
        }
        if (!Graph.needsGrad(x)) {
            return out;
        }
        CrossEntropy node = new CrossEntropy();
        node.input = node.save(x);
        node.rowScale = targets.scaleTensor(x.dtype());
        node.labels = targets.safeLabels;
        node.reduction = reduction;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = input.unpack();
        int n = x.size(0);
        int c = x.size(1);
        // Per-row factor -s_i·g (g per row for 'none'); the gradient is -factor·(softmax - onehot).
        Tensor factor = reduction == Reduction.NONE ? grad.mul(rowScale) : rowScale.mul(grad);
        if (GradMode.isEnabled()) {
            // Building a graph of the gradient (createGraph): the differentiable composed form.
            Tensor onehot = ScatterAdd.apply(new int[] {n, c}, 1, Tensor.of(labels, n, 1),
                    Tensor.ones(x.dtype(), n, 1));
            return new Tensor[] {x.softmax(1).sub(onehot).mul(factor.neg().unsqueeze(1))};
        }
        Tensor probs = x.detach().softmax(1);
        double[] f = factor.toDoubleArray();
        int base = probs.storageOffset();
        Parallel.forRange(n, Math.max(1, 4096 / Math.max(1, c)), (rs, re) -> {
            for (int i = rs; i < re; i++) {
                int row = base + i * c;
                int t = row + (int) labels[i];
                probs.storage().setFromDouble(t, probs.storage().getAsDouble(t) - 1);
                scaleRow(probs, row, c, -f[i]);
            }
        });
        return new Tensor[] {probs};
    }

    private static void scaleRow(Tensor t, int from, int n, double s) {
        if (t.dtype() == DType.FLOAT32) {
            float[] a = t.storage().floats();
            float fs = (float) s;
            for (int j = 0; j < n; j++) a[from + j] *= fs;
        } else {
            double[] a = t.storage().doubles();
            for (int j = 0; j < n; j++) a[from + j] *= s;
        }
    }
}
