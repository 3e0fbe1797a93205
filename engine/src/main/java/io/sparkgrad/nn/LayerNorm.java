package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

import java.util.Arrays;

/**
 * Normalises over the trailing {@code normalizedShape} dimensions of each sample,
 * {@code (x - mean) / √(var + eps) · weight + bias} ({@code torch.nn.LayerNorm}); weight starts at
 * ones, bias at zeros.
 */
public class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final double eps;

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        if (elementwiseAffine) {
            registerParameter("weight", new Parameter(Tensor.ones(DType.FLOAT32, normalizedShape)));
            registerParameter("bias", new Parameter(Tensor.zeros(DType.FLOAT32, normalizedShape)));
        }
    }

    /** The scale, or null without an elementwise affine transform. */
    public Parameter weight() {
        return parameter("weight");
    }

    public Parameter bias() {
        return parameter("bias");
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.layerNorm(input, normalizedShape, weight(), bias(), eps);
    }

    @Override
    protected String extraRepr() {
        String shape = Arrays.toString(normalizedShape).replace('[', '(').replace(']', ')');
        if (normalizedShape.length == 1) {
            shape = "(" + normalizedShape[0] + ",)";
        }
        return shape + ", eps=" + pyFloat(eps) + ", elementwise_affine=" + py(weight() != null);
    }
}
