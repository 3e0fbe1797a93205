package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * 2-D convolution over {@code [N, C, H, W]} ({@code torch.nn.Conv2d} without groups or dilation):
 * weight {@code [outChannels, inChannels, kh, kw]}, bias {@code [outChannels]}, zero padding.
 * Initialised as PyTorch's: Kaiming-uniform ({@code a = √5}) weight, bias uniform in
 * {@code ±1/√(inChannels·kh·kw)}. Runs as im2col plus one matrix product ({@link F#conv2d}).
 */
public class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;

    /** A square kernel, stride 1, no padding, with bias. */
    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, new int[] {kernelSize, kernelSize}, new int[] {stride, stride},
                new int[] {padding, padding}, true, Generator.defaultGenerator());
    }

    /** Every option: {@code {height, width}} pairs for kernel, stride and padding, and where initial values come from. */
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, boolean bias,
                  Generator gen) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = pair("kernelSize", kernelSize);
        this.stride = pair("stride", stride);
        this.padding = pair("padding", padding);
        Parameter w = registerParameter("weight",
                new Parameter(Tensor.empty(DType.FLOAT32, outChannels, inChannels, kernel[0], kernel[1])));
        Init.kaimingUniform_(w, Math.sqrt(5), gen);
        if (bias) {
            Parameter b = registerParameter("bias", new Parameter(Tensor.empty(DType.FLOAT32, outChannels)));
            Init.biasUniform_(b, inChannels * kernel[0] * kernel[1], gen);
        }
    }

    static int[] pair(String what, int[] values) {
        if (values.length != 2) {
            throw new IllegalArgumentException(what + " must be a pair {height, width}, got " + values.length + " values");
        }
        return values.clone();
    }

    public Parameter weight() {
        return parameter("weight");
    }

    /** The bias, or null for a layer made without one. */
    public Parameter bias() {
        return parameter("bias");
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.conv2d(input, weight(), bias(), stride, padding);
    }

    @Override
    protected String extraRepr() {
        String s = inChannels + ", " + outChannels + ", kernel_size=" + tuple(kernel) + ", stride=" + tuple(stride);
        if (padding[0] != 0 || padding[1] != 0) {
            s += ", padding=" + tuple(padding);
        }
        return bias() == null ? s + ", bias=False" : s;
    }

    static String tuple(int[] pair) {
        return "(" + pair[0] + ", " + pair[1] + ")";
    }
}
