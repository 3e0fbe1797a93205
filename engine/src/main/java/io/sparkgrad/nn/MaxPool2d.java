package io.sparkgrad.nn;

import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/** The maximum of each window of {@code [N, C, H, W]} ({@code torch.nn.MaxPool2d}); the stride defaults to the kernel. */
public class MaxPool2d extends Module {
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;

    public MaxPool2d(int kernelSize) {
        this(kernelSize, kernelSize, 0);
    }

    public MaxPool2d(int kernelSize, int stride, int padding) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding});
    }

    /** {@code {height, width}} pairs; padding is at most half the kernel. */
    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding) {
        this.kernel = Conv2d.pair("kernelSize", kernelSize);
        this.stride = Conv2d.pair("stride", stride);
        this.padding = Conv2d.pair("padding", padding);
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.maxPool2d(input, kernel, stride, padding);
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + AvgPool2d.size(kernel) + ", stride=" + AvgPool2d.size(stride) + ", padding="
                + AvgPool2d.size(padding) + ", dilation=1, ceil_mode=False";
    }
}
