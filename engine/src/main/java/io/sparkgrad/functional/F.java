package io.sparkgrad.functional;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.ops.BinaryCrossEntropyWithLogits;
import io.sparkgrad.ops.Col2Im;
import io.sparkgrad.ops.Erf;
import io.sparkgrad.ops.Im2Col;
import io.sparkgrad.ops.MaxPool2dWithIndices;
import io.sparkgrad.ops.MseLoss;
import io.sparkgrad.ops.NllLoss;

import java.util.Arrays;

/**
 * Functions of tensors, as {@code torch.nn.functional}: activations, layers without state, and
 * losses. Losses take PyTorch's defaults (mean reduction); class targets are int64 tensors of
 * indices. Most functions here are composed from the primitives in {@code io.sparkgrad.ops} and
 * have no backward code of their own.
 */
public final class F {
    /** PyTorch's default {@code ignore_index}. */
    public static final long IGNORE_INDEX = -100;

    private static final double SQRT_HALF = Math.sqrt(0.5);
    private static final double SQRT_TWO_OVER_PI = Math.sqrt(2 / Math.PI);

    private F() {
    }

    // ------------------------------------------------------------------ activations

    public static Tensor relu(Tensor x) {
        return x.relu();
    }

    public static Tensor sigmoid(Tensor x) {
        return x.sigmoid();
    }

    public static Tensor tanh(Tensor x) {
        return x.tanh();
    }

    public static Tensor softmax(Tensor x, int dim) {
        return x.softmax(dim);
    }

    public static Tensor logSoftmax(Tensor x, int dim) {
        return x.logSoftmax(dim);
    }

    /** The error function, elementwise ({@code torch.erf}). */
    public static Tensor erf(Tensor x) {
        return Erf.apply(x);
    }

    /** GELU in PyTorch's default, exact form: {@code x · Φ(x) = x/2 · (1 + erf(x/√2))}. */
    public static Tensor gelu(Tensor x) {
        return x.mul(erf(x.mul(SQRT_HALF)).add(1)).mul(0.5);
    }

    /**
     * GELU, exact or (with {@code approximate = "tanh"}) PyTorch's tanh approximation
     * {@code x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))}.
     */
    public static Tensor gelu(Tensor x, String approximate) {
        switch (approximate) {
            case "none":
                return gelu(x);
            case "tanh":
                Tensor inner = x.add(x.pow(3).mul(0.044715)).mul(SQRT_TWO_OVER_PI);
                return x.mul(inner.tanh().add(1)).mul(0.5);
            default:
                throw new IllegalArgumentException("gelu: approximate must be \"none\" or \"tanh\", got \""
                        + approximate + "\"");
        }
    }

    // ------------------------------------------------------------------ layers

    /** {@code x · weightᵀ + bias} over the last dimension ({@code bias} may be null). */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (bias != null && x.dim() == 2 && weight.dim() == 2 && x.dtype() == weight.dtype()
                && bias.dtype() == x.dtype()) {
            // One matrix call with the bias accumulated onto (AddmmBackward0, as PyTorch's Linear).
            return io.sparkgrad.ops.Addmm.apply(bias, x, weight.t());
        }
        Tensor y = x.matmul(weight.t());
        return bias == null ? y : y.add(bias);
    }

    /**
     * Zeroes each element with probability {@code p} and scales the survivors by {@code 1/(1-p)},
     * so the expected value is unchanged; the identity when not {@code training}. The mask is drawn
     * from {@code gen}, so a seeded generator gives the same mask on every run.
     */
    public static Tensor dropout(Tensor x, double p, boolean training, Generator gen) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        }
        if (!training || p == 0) {
            return x;
        }
        double[] u = new double[x.numel()];
        gen.fillUniform(u, 0, 1);
        double scale = p == 1 ? 0 : 1 / (1 - p);
        for (int i = 0; i < u.length; i++) {
            u[i] = u[i] < 1 - p ? scale : 0;
        }
        Tensor mask = x.dtype() == DType.FLOAT64 ? Tensor.wrap(u, x.shape()) : Tensor.of(u, x.shape()).to(x.dtype());
        return x.mul(mask.to(x.device()));
    }

    /** Dropout drawing from the default generator ({@link Tensor#manualSeed} seeds it). */
    public static Tensor dropout(Tensor x, double p, boolean training) {
        return dropout(x, p, training, Generator.defaultGenerator());
    }

    /**
     * Rows of {@code weight} picked by the int64 indices {@code input} (any shape): the result has
     * shape {@code input.shape + [embeddingDim]}. The row {@code paddingIdx} (or none when negative)
     * reads as usual but receives no gradient, as in PyTorch.
     */
    public static Tensor embedding(Tensor input, Tensor weight, long paddingIdx) {
        if (input.dtype() != DType.INT64) {
            throw new IllegalArgumentException("embedding: indices must be an int64 tensor, got " + input.dtype()
                    + " of shape " + Shapes.str(input.shape()));
        }
        if (weight.dim() != 2) {
            throw new IllegalArgumentException("embedding: weight must be 2-D [numEmbeddings, embeddingDim], got "
                    + Shapes.str(weight.shape()));
        }
        int[] outShape = Arrays.copyOf(input.shape(), input.dim() + 1);
        outShape[input.dim()] = weight.size(1);
        Tensor rows = weight.indexSelect(0, input.reshape(-1));
        if (paddingIdx >= 0 && rows.requiresGrad()) {
            // Same values, but the padding rows take theirs from a detached copy, so no gradient reaches them.
            long[] idx = input.toLongArray();
            double[] isPad = new double[idx.length];
            for (int i = 0; i < idx.length; i++) {
                isPad[i] = idx[i] == paddingIdx ? 1 : 0;
            }
            Tensor padMask = Tensor.of(isPad, idx.length, 1).to(rows.device());
            rows = Tensor.where(padMask, rows.detach(), rows);
        }
        return rows.reshape(outShape);
    }

    public static Tensor embedding(Tensor input, Tensor weight) {
        return embedding(input, weight, -1);
    }

    /**
     * 2-D convolution (cross-correlation, as every deep-learning library) of {@code [N, C, H, W]}
     * (or unbatched {@code [C, H, W]}) with {@code weight [out, C, kh, kw]}, plus {@code bias [out]}
     * (may be null). Computed as im2col followed by one matrix product
     * {@code [out, C·kh·kw] · [C·kh·kw, N·L]} on the BLAS path ({@code L} output positions per image).
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding) {
        if (x.dim() == 3) {
            return conv2d(x.unsqueeze(0), weight, bias, stride, padding).squeeze(0);
        }
        if (x.dim() != 4 || weight.dim() != 4) {
            throw new IllegalArgumentException("conv2d: expected input [N, C, H, W] and weight [out, C, kh, kw], got "
                    + Shapes.str(x.shape()) + " and " + Shapes.str(weight.shape()));
        }
        if (x.size(1) != weight.size(1)) {
            throw new IllegalArgumentException("conv2d: weight of size " + Shapes.str(weight.shape())
                    + " expected input " + Shapes.str(x.shape()) + " to have " + weight.size(1)
                    + " channels, but got " + x.size(1) + " channels instead");
        }
        if (bias != null && (bias.dim() != 1 || bias.size(0) != weight.size(0))) {
            throw new IllegalArgumentException("conv2d: bias must have shape [" + weight.size(0) + "], got "
                    + Shapes.str(bias.shape()));
        }
        int n = x.size(0);
        int outChannels = weight.size(0);
        int kh = weight.size(2);
        int kw = weight.size(3);
        Tensor cols = unfold(x, new int[] {kh, kw}, padding, stride);          // [N, P, L], stored [P, N, L]
        int patch = cols.size(1);
        int blocks = cols.size(2);
        Tensor byPatch = cols.permute(1, 0, 2).reshape(patch, n * blocks);     // a view, no copy
        Tensor out = weight.reshape(outChannels, patch).mm(byPatch);           // [out, N·L]
        if (bias != null) {
            out = out.add(bias.reshape(outChannels, 1));
        }
        int oh = (x.size(2) + 2 * padding[0] - kh) / stride[0] + 1;
        int ow = blocks / oh;
        // [out, N, oh, ow] to [N, out, oh, ow]: one contiguous run of oh·ow values per channel and image.
        return out.reshape(outChannels, n, oh, ow).permute(1, 0, 2, 3).contiguous();
    }

    /** {@code conv2d} with a square stride and padding. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(x, weight, bias, new int[] {stride, stride}, new int[] {padding, padding});
    }

    /**
     * {@code torch.nn.functional.unfold}: the {@code kernel[0] × kernel[1]} windows of
     * {@code [N, C, H, W]} as columns {@code [N, C·kh·kw, L]}.
     */
    public static Tensor unfold(Tensor x, int[] kernel, int[] padding, int[] stride) {
        return Im2Col.apply(x, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]);
    }

    /** {@code torch.nn.functional.fold}: columns {@code [N, C·kh·kw, L]} summed into {@code [N, C, outputSize]}. */
    public static Tensor fold(Tensor cols, int[] outputSize, int[] kernel, int[] padding, int[] stride) {
        return Col2Im.apply(cols, outputSize[0], outputSize[1], kernel[0], kernel[1], stride[0], stride[1],
                padding[0], padding[1]);
    }

    /** Max pooling of {@code [N, C, H, W]} (or {@code [C, H, W]}); padding at most half the kernel. */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        if (x.dim() == 3) {
            return maxPool2d(x.unsqueeze(0), kernel, stride, padding).squeeze(0);
        }
        return MaxPool2dWithIndices.apply(x, kernel[0], kernel[1], stride[0], stride[1], padding[0], padding[1]);
    }

    /** Max pooling with a square kernel and the stride equal to it (PyTorch's default). */
    public static Tensor maxPool2d(Tensor x, int kernel) {
        return maxPool2d(x, new int[] {kernel, kernel}, new int[] {kernel, kernel}, new int[] {0, 0});
    }

    /**
     * Average pooling of {@code [N, C, H, W]} (or {@code [C, H, W]}); padded zeros count in the
     * average (PyTorch's default {@code count_include_pad=True}). Composed: each channel is unfolded
     * on its own and its windows averaged, so the gradient comes from {@link Im2Col}'s.
     */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        if (x.dim() == 3) {
            return avgPool2d(x.unsqueeze(0), kernel, stride, padding).squeeze(0);
        }
        if (x.dim() != 4) {
            throw new IllegalArgumentException("avgPool2d: expected a 4-D input [N, C, H, W], got shape "
                    + Shapes.str(x.shape()));
        }
        if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) {
            throw new IllegalArgumentException("avgPool2d: pad should be at most half of kernel size, but got pad=("
                    + padding[0] + ", " + padding[1] + ") and kernel_size=(" + kernel[0] + ", " + kernel[1] + ")");
        }
        int n = x.size(0);
        int c = x.size(1);
        Tensor planes = x.reshape(n * c, 1, x.size(2), x.size(3));
        Tensor windows = unfold(planes, kernel, padding, stride);               // [N·C, kh·kw, L]
        int oh = (x.size(2) + 2 * padding[0] - kernel[0]) / stride[0] + 1;
        int ow = windows.size(2) / oh;
        return windows.mean(1).reshape(n, c, oh, ow);
    }

    /** Average pooling with a square kernel and the stride equal to it (PyTorch's default). */
    public static Tensor avgPool2d(Tensor x, int kernel) {
        return avgPool2d(x, new int[] {kernel, kernel}, new int[] {kernel, kernel}, new int[] {0, 0});
    }

    /**
     * Layer normalisation over the trailing dimensions {@code normalizedShape}:
     * {@code (x - mean) / √(var + eps) · weight + bias}, with the biased variance; weight and bias
     * (of {@code normalizedShape}) may be null.
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        int k = normalizedShape.length;
        int lead = x.dim() - k;
        if (k == 0 || lead < 0 || !Arrays.equals(Arrays.copyOfRange(x.shape(), lead, x.dim()), normalizedShape)) {
            throw new IllegalArgumentException("layerNorm: given normalized_shape=" + Shapes.str(normalizedShape)
                    + ", expected an input whose last dimensions are " + Shapes.str(normalizedShape)
                    + ", but got input of size " + Shapes.str(x.shape()));
        }
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = lead + i;
        }
        Tensor y = normalize(x, dims, eps);
        if (weight != null) {
            y = y.mul(weight);
        }
        return bias == null ? y : y.add(bias);
    }

    /**
     * Batch normalisation of {@code [N, C]}, {@code [N, C, L]} or {@code [N, C, H, W]} per channel.
     * In training the batch's mean and biased variance normalise, and the running statistics (when
     * given) move towards the batch's: {@code running = (1 - momentum)·running + momentum·batch},
     * with the <em>unbiased</em> variance, as PyTorch. Otherwise the running statistics normalise.
     * weight and bias ({@code [C]}) may be null.
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        if (x.dim() < 2) {
            throw new IllegalArgumentException("batchNorm: expected an input with at least 2 dimensions [N, C, ...], "
                    + "got " + Shapes.str(x.shape()));
        }
        int c = x.size(1);
        int[] channelShape = new int[x.dim()];
        Arrays.fill(channelShape, 1);
        channelShape[1] = c;
        int[] dims = new int[x.dim() - 1];
        for (int d = 0, k = 0; d < x.dim(); d++) {
            if (d != 1) {
                dims[k++] = d;
            }
        }
        int perChannel = x.numel() / Math.max(c, 1);
        Tensor y;
        // Without running statistics the batch's own statistics normalise, in training and in eval.
        if (training || runningMean == null) {
            if (perChannel <= 1) {
                throw new IllegalArgumentException("batchNorm: expected more than 1 value per channel when training, "
                        + "got input size " + Shapes.str(x.shape()));
            }
            Tensor mean = x.mean(dims, true);
            Tensor centered = x.sub(mean);
            Tensor var = centered.mul(centered).mean(dims, true);
            if (training && runningMean != null) {
                try (var g = GradMode.noGrad()) {
                    Tensor unbiased = var.detach().reshape(c).mul(perChannel / (perChannel - 1.0));
                    runningMean.mul_(1 - momentum).add_(mean.detach().reshape(c).mul(momentum));
                    runningVar.mul_(1 - momentum).add_(unbiased.mul(momentum));
                }
            }
            y = centered.div(var.add(eps).sqrt());
        } else {
            Tensor mean = runningMean.reshape(channelShape);
            Tensor std = runningVar.reshape(channelShape).add(eps).sqrt();
            y = x.sub(mean).div(std);
        }
        if (weight != null) {
            y = y.mul(weight.reshape(channelShape));
        }
        return bias == null ? y : y.add(bias.reshape(channelShape));
    }

    /** {@code (x - mean) / √(var + eps)} over {@code dims}, with the biased variance. */
    private static Tensor normalize(Tensor x, int[] dims, double eps) {
        Tensor centered = x.sub(x.mean(dims, true));
        Tensor var = centered.mul(centered).mean(dims, true);
        return centered.div(var.add(eps).sqrt());
    }

    // ------------------------------------------------------------------ losses

    /** Binary cross-entropy on logits with targets in [0, 1], averaged. */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target) {
        return BinaryCrossEntropyWithLogits.apply(input, target, Reduction.MEAN);
    }

    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Reduction reduction) {
        return BinaryCrossEntropyWithLogits.apply(input, target, reduction);
    }

    /**
     * With an element {@code weight} (broadcast to the input) and a {@code posWeight} that weighs
     * the positive term (broadcast, usually one per class); either may be null.
     */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor weight, Tensor posWeight,
                                                      Reduction reduction) {
        return BinaryCrossEntropyWithLogits.apply(input, target, weight, posWeight, reduction);
    }

    /** Cross-entropy of logits {@code [N, C]} against class indices {@code [N]}: {@code nllLoss(logSoftmax(input, 1), target)}. */
    public static Tensor crossEntropy(Tensor input, Tensor target) {
        return crossEntropy(input, target, Reduction.MEAN);
    }

    public static Tensor crossEntropy(Tensor input, Tensor target, Reduction reduction) {
        return crossEntropy(input, target, null, IGNORE_INDEX, reduction, 0);
    }

    /**
     * Cross-entropy of logits {@code [N, C]}, {@code [C]} or {@code [N, C, d1, …]} against int64
     * class indices {@code [N]}, {@code []} or {@code [N, d1, …]}, with PyTorch's options: per-class
     * {@code weight} (null for none), {@code ignoreIndex}, and {@code labelSmoothing} ε, which mixes
     * the target with the uniform distribution:
     * {@code (1-ε)·nll + ε/C · smooth}, where {@code smooth = -Σ_c w_c·logp_c} per row, zero on
     * ignored rows, and its mean divides by the same total weight the NLL mean divides by.
     */
    public static Tensor crossEntropy(Tensor input, Tensor target, Tensor weight, long ignoreIndex,
                                      Reduction reduction, double labelSmoothing) {
        if (labelSmoothing < 0 || labelSmoothing > 1) {
            throw new IllegalArgumentException("crossEntropy: label_smoothing must be between 0.0 and 1.0, got "
                    + labelSmoothing);
        }
        if (target.dtype() != DType.INT64) {
            throw new IllegalArgumentException("crossEntropy: target must be an int64 tensor of class indices, got "
                    + target.dtype() + " of shape " + Shapes.str(target.shape())
                    + " (class probabilities are not supported)");
        }
        if (input.dim() > 2) {
            return crossEntropyOverPositions(input, target, weight, ignoreIndex, reduction, labelSmoothing);
        }
        if (input.dim() == 2 && labelSmoothing == 0) {
            // Log-softmax and NLL in one pass (tested against the composed form below).
            return io.sparkgrad.ops.CrossEntropy.apply(input, target, weight, reduction, ignoreIndex);
        }
        int classDim = input.dim() == 1 ? 0 : 1;
        Tensor logp = input.logSoftmax(classDim);
        Tensor nll = nllLoss(logp, target, weight, reduction, ignoreIndex);
        if (labelSmoothing == 0) {
            return nll;
        }
        int classes = input.size(classDim);
        Tensor smooth = (weight == null ? logp : logp.mul(weight.to(logp.dtype()))).sum(classDim).neg();
        long[] labels = target.toLongArray();
        double[] kept = new double[labels.length];
        double keptWeight = 0;
        double[] w = weight == null ? null : weight.toDoubleArray();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] != ignoreIndex) {
                kept[i] = 1;
                keptWeight += w == null ? 1 : w[(int) labels[i]];
            }
        }
        Tensor keep = Tensor.of(kept, smooth.shape());
        smooth = Tensor.where(keep, smooth, Tensor.scalar(0, smooth.dtype()));
        switch (reduction) {
            case MEAN:
                smooth = smooth.sum().div(keptWeight);
                break;
            case SUM:
                smooth = smooth.sum();
                break;
            default:
                break;
        }
        return nll.mul(1 - labelSmoothing).add(smooth.mul(labelSmoothing / classes));
    }

    /** {@code [N, C, d1, …]}: classes moved last and every position made a row, then reshaped back. */
    private static Tensor crossEntropyOverPositions(Tensor input, Tensor target, Tensor weight, long ignoreIndex,
                                                    Reduction reduction, double labelSmoothing) {
        int rank = input.dim();
        int[] expected = new int[rank - 1];
        expected[0] = input.size(0);
        System.arraycopy(input.shape(), 2, expected, 1, rank - 2);
        if (!Arrays.equals(target.shape(), expected)) {
            throw new IllegalArgumentException("crossEntropy: expected target of shape " + Shapes.str(expected)
                    + " for input " + Shapes.str(input.shape()) + ", got " + Shapes.str(target.shape()));
        }
        int[] classesLast = new int[rank];
        classesLast[0] = 0;
        for (int d = 2; d < rank; d++) {
            classesLast[d - 1] = d;
        }
        classesLast[rank - 1] = 1;
        Tensor rows = input.permute(classesLast).reshape(-1, input.size(1));
        Tensor loss = crossEntropy(rows, target.reshape(-1), weight, ignoreIndex, reduction, labelSmoothing);
        return reduction == Reduction.NONE ? loss.reshape(expected) : loss;
    }

    /** Negative log-likelihood of log-probabilities {@code [N, C]} against class indices {@code [N]}. */
    public static Tensor nllLoss(Tensor input, Tensor target) {
        return nllLoss(input, target, null, Reduction.MEAN, IGNORE_INDEX);
    }

    public static Tensor nllLoss(Tensor input, Tensor target, Reduction reduction) {
        return nllLoss(input, target, null, reduction, IGNORE_INDEX);
    }

    /** With per-class {@code weight} (null for none) and an index whose rows are ignored. */
    public static Tensor nllLoss(Tensor input, Tensor target, Tensor weight, Reduction reduction, long ignoreIndex) {
        return NllLoss.apply(input, target, weight, reduction, ignoreIndex);
    }

    public static Tensor mseLoss(Tensor input, Tensor target) {
        return MseLoss.apply(input, target, Reduction.MEAN);
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        return MseLoss.apply(input, target, reduction);
    }

    /** Mean absolute error {@code |x - y|}. */
    public static Tensor l1Loss(Tensor input, Tensor target) {
        return l1Loss(input, target, Reduction.MEAN);
    }

    public static Tensor l1Loss(Tensor input, Tensor target, Reduction reduction) {
        return reduce(input.sub(target).abs(), reduction);
    }

    /** Huber loss with {@code delta = 1}. */
    public static Tensor huberLoss(Tensor input, Tensor target) {
        return huberLoss(input, target, Reduction.MEAN, 1.0);
    }

    /**
     * Huber loss: quadratic near the target, linear beyond {@code delta}:
     * {@code ½d²} where {@code |d| < delta}, else {@code delta·(|d| - ½delta)}, with {@code d = x - y}.
     */
    public static Tensor huberLoss(Tensor input, Tensor target, Reduction reduction, double delta) {
        if (!(delta > 0)) {
            throw new IllegalArgumentException("huberLoss: delta must be positive, got " + delta);
        }
        Tensor d = input.sub(target);
        Tensor absD = d.abs();
        Tensor quadratic = d.mul(d).mul(0.5);
        Tensor linear = absD.sub(0.5 * delta).mul(delta);
        Tensor inside = Elementwise.binary(BinaryKernel.GT, Tensor.scalar(delta, absD.dtype()), absD.detach(), "huberLoss");
        return reduce(Tensor.where(inside, quadratic, linear), reduction);
    }

    private static Tensor reduce(Tensor perElement, Reduction reduction) {
        switch (reduction) {
            case MEAN: return perElement.mean();
            case SUM: return perElement.sum();
            default: return perElement;
        }
    }
}
