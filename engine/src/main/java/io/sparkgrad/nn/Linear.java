package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * {@code y = x · Wᵀ + b} over the last dimension ({@code torch.nn.Linear}): weight
 * {@code [outFeatures, inFeatures]}, bias {@code [outFeatures]}. Both start as PyTorch's, uniform
 * in {@code ±1/√inFeatures} (Kaiming-uniform with {@code a = √5} for the weight).
 */
public class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true, Generator.defaultGenerator());
    }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this(inFeatures, outFeatures, bias, Generator.defaultGenerator());
    }

    /** With the initial values drawn from {@code gen} (weight first, then bias). */
    public Linear(int inFeatures, int outFeatures, boolean bias, Generator gen) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        Parameter w = registerParameter("weight", new Parameter(Tensor.empty(DType.FLOAT32, outFeatures, inFeatures)));
        Init.kaimingUniform_(w, Math.sqrt(5), gen);
        if (bias) {
            Parameter b = registerParameter("bias", new Parameter(Tensor.empty(DType.FLOAT32, outFeatures)));
            Init.biasUniform_(b, inFeatures, gen);
        }
    }

    public Parameter weight() {
        return parameter("weight");
    }

    /** The bias, or null for a layer made without one. */
    public Parameter bias() {
        return parameter("bias");
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.linear(input, weight(), bias());
    }

    @Override
    protected String extraRepr() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + py(bias() != null);
    }
}
