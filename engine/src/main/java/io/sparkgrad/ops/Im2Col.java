package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.ConvKernels;
import io.sparkgrad.backend.ConvKernels.Window;

/**
 * {@code unfold}: every {@code kh × kw} window of a zero-padded {@code [N, C, H, W]} input as a
 * column, {@code out[n, (c·kh + i)·kw + j, l] = x[n, c, oy·sh - ph + i, ox·sw - pw + j]} for
 * window {@code l = oy·OW + ox} (0 in the padding); shape {@code [N, C·kh·kw, OH·OW]}. The output
 * is stored as {@code [C·kh·kw, N, L]} (see {@link ConvKernels}), so convolution turns it into one GEMM
 * over the whole batch for free.
 * <br>{@code x: col2im(grad)} — the windows summed back where they came from ({@link Col2Im}).
 */
public final class Im2Col extends Node {
    private Window window;

    private Im2Col() {
        super("Im2ColBackward0");
    }

    public static Tensor apply(Tensor x, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
        Ops.requireFloat("unfold", x);
        if (x.dim() != 4) {
            throw new IllegalArgumentException("unfold: expected a 4-D input [N, C, H, W], got shape "
                    + Shapes.str(x.shape()));
        }
        Window g = Window.of(x.shape(), kernelH, kernelW, strideH, strideW, padH, padW);
        Tensor out = ConvKernels.im2col(x, g);
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Im2Col node = new Im2Col();
        node.window = g;
        return Graph.record(node, out, x);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        return new Tensor[] {Col2Im.apply(grad, window)};
    }
}
