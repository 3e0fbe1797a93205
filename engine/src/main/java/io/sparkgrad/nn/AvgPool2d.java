package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * The mean of each window of {@code [N, C, H, W]} ({@code torch.nn.AvgPool2d}); the stride
 * defaults to the kernel, and padded zeros count in the mean, as PyTorch's default.
 */
public class AvgPool2d extends Module {
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;

    public AvgPool2d(int kernelSize) {
        this(kernelSize, kernelSize, 0);
    }

    public AvgPool2d(int kernelSize, int stride, int padding) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding});
    }

    /** {@code {height, width}} pairs; padding is at most half the kernel. */
    public AvgPool2d(int[] kernelSize, int[] stride, int[] padding) {
        this.kernel = Conv2d.pair("kernelSize", kernelSize);
        this.stride = Conv2d.pair("stride", stride);
        this.padding = Conv2d.pair("padding", padding);
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.avgPool2d(input, kernel, stride, padding);
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + size(kernel) + ", stride=" + size(stride) + ", padding=" + size(padding);
    }

    /** PyTorch prints a size given as one number as that number, and a pair as a tuple. */
    static String size(int[] pair) {
        return pair[0] == pair[1] ? Integer.toString(pair[0]) : Conv2d.tuple(pair);
    }
}
