package io.sparkgrad.optim;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradient clipping by total norm, {@code torch.nn.utils.clip_grad_norm_} of PyTorch 1.13. It
 * lives with the optimizers because it is called between {@code backward()} and
 * {@code step()}:
 *
 * <pre>{@code
 * loss.backward();
 * double norm = ClipGrad.clipGradNorm_(model.parameters(), 1.0);
 * opt.step();
 * }</pre>
 */
public final class ClipGrad {
    private ClipGrad() {
    }

    /** {@link #clipGradNorm_(Iterable, double, double, boolean)} with the 2-norm. */
    public static double clipGradNorm_(Iterable<? extends Tensor> parameters, double maxNorm) {
        return clipGradNorm_(parameters, maxNorm, 2.0, false);
    }

    /** {@link #clipGradNorm_(Iterable, double, double, boolean)} without the non-finite check. */
    public static double clipGradNorm_(Iterable<? extends Tensor> parameters, double maxNorm, double normType) {
        return clipGradNorm_(parameters, maxNorm, normType, false);
    }

    /**
     * Scales the gradients of {@code parameters} in place so that their total norm is at most
     * {@code maxNorm}, and returns the total norm they had: the {@code normType}-norm of all
     * gradients taken together as one vector (parameters without a gradient are skipped; 0 if
     * none has one). As in PyTorch, every gradient is multiplied by
     * {@code min(1, maxNorm / (total + 1e-6))}, so the clipped norm lands just below
     * {@code maxNorm}; with a non-finite total the gradients become non-finite too, unless
     * {@code errorIfNonfinite} asks for an exception instead.
     *
     * @param normType a positive p, or {@code Double.POSITIVE_INFINITY} for the largest magnitude
     */
    public static double clipGradNorm_(Iterable<? extends Tensor> parameters, double maxNorm, double normType,
            boolean errorIfNonfinite) {
        if (!(normType > 0)) {
            throw new IllegalArgumentException("clipGradNorm_: normType must be positive or infinite, got " + normType);
        }
        List<Tensor> grads = new ArrayList<>();
        for (Tensor p : parameters) {
            if (p.grad() != null) {
                grads.add(p.grad());
            }
        }
        if (grads.isEmpty()) {
            return 0.0;
        }
        // As PyTorch: the norm of each gradient, then the same norm of those norms.
        double[] norms = new double[grads.size()];
        for (int k = 0; k < norms.length; k++) {
            norms[k] = norm(Elements.of(grads.get(k), "gradient"), normType);
        }
        double total = norm(Elements.of(Tensor.wrap(norms, norms.length), "norms"), normType);
        if (errorIfNonfinite && !Double.isFinite(total)) {
            throw new IllegalStateException("The total norm of order " + normType + " for gradients from parameters "
                    + "is non-finite, so it cannot be clipped. To scale the gradients by the non-finite norm anyway, "
                    + "pass errorIfNonfinite=false");
        }
        // Math.min keeps a NaN coefficient, as torch.clamp(max=1.0) does.
        double coef = Math.min(maxNorm / (total + 1e-6), 1.0);
        try (var g = GradMode.noGrad()) {
            for (Tensor grad : grads) {
                Elements e = Elements.of(grad, "gradient");
                int n = e.size();
                for (int i = 0; i < n; i++) {
                    e.set(i, e.get(i) * coef);
                }
                e.commit();
            }
        }
        return total;
    }

    /** The p-norm of the elements, accumulated in double; the largest magnitude for p = infinity (NaN wins). */
    private static double norm(Elements e, double p) {
        int n = e.size();
        if (p == Double.POSITIVE_INFINITY) {
            double max = 0;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, Math.abs(e.get(i)));
            }
            return max;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double a = Math.abs(e.get(i));
            sum += p == 1 ? a : p == 2 ? a * a : Math.pow(a, p);
        }
        return p == 1 ? sum : p == 2 ? Math.sqrt(sum) : Math.pow(sum, 1 / p);
    }
}
