package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.Reduction;

/**
 * Class-index targets checked against {@code [N, C]} scores, with what the NLL-style losses need
 * per row: the factor {@code -w[t_i]} (0 for ignored rows, divided by the total weight for the
 * mean) and the target index with ignored rows pointed at class 0, so gathers stay in range.
 */
final class ClassTargets {
    final int rows;
    final int classes;
    final double[] scale;
    final long[] safeLabels;
    /** Where the scores live: the per-row tensors go there too. */
    private io.sparkgrad.Device device = io.sparkgrad.Device.CPU;

    private ClassTargets(int rows, int classes, double[] scale, long[] safeLabels) {
        this.rows = rows;
        this.classes = classes;
        this.scale = scale;
        this.safeLabels = safeLabels;
    }

    static ClassTargets of(String op, Tensor input, Tensor target, Tensor weight, Reduction reduction, long ignoreIndex) {
        if (target.dtype() != DType.INT64) {
            throw new IllegalArgumentException(op + ": target must be an int64 tensor of class indices, got "
                    + target.dtype() + "; build it with Tensor.of(long[], n)");
        }
        int n = input.size(0);
        int classes = input.size(1);
        if (target.dim() != 1 || target.size(0) != n) {
            throw new IllegalArgumentException(op + ": expected target of shape [" + n + "] for input "
                    + Shapes.str(input.shape()) + ", got " + Shapes.str(target.shape()));
        }
        if (weight != null && (weight.dim() != 1 || weight.size(0) != classes)) {
            throw new IllegalArgumentException(op + ": weight must have shape [" + classes + "], got "
                    + Shapes.str(weight.shape()));
        }
        long[] labels = target.toLongArray();
        double[] w = weight == null ? null : weight.toDoubleArray();
        double[] scale = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            long c = labels[i];
            if (c == ignoreIndex) {
                labels[i] = 0;
                continue;
            }
            if (c < 0 || c >= classes) {
                throw new IndexOutOfBoundsException(op + ": target " + c + " at row " + i + " is out of range for "
                        + classes + " classes (expected 0.." + (classes - 1) + ")");
            }
            double wc = w == null ? 1.0 : w[(int) c];
            scale[i] = -wc;
            total += wc;
        }
        if (reduction == Reduction.MEAN) {
            for (int i = 0; i < n; i++) {
                scale[i] /= total;
            }
        }
        ClassTargets targets = new ClassTargets(n, classes, scale, labels);
        targets.device = input.device();
        return targets;
    }

    Tensor scaleTensor(DType dtype) {
        return Ops.cast(Tensor.of(scale, rows), dtype).to(device);
    }

    Tensor indexColumn() {
        return Tensor.of(safeLabels, rows, 1).to(device);
    }
}
