package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.ConvKernels;
import io.sparkgrad.backend.ConvKernels.Window;

import java.util.Arrays;

/**
 * {@code fold}, the adjoint of {@link Im2Col}: columns {@code [N, C·kh·kw, L]} summed into a
 * {@code [N, C, H, W]} image, {@code out[n, c, y, x] = Σ cols[n, (c·kh + i)·kw + j, l]} over all
 * windows {@code l} and offsets {@code (i, j)} that cover {@code (y, x)}; padding positions are dropped.
 * <br>{@code cols: im2col(grad)}.
 */
public final class Col2Im extends Node {
    private Window window;

    private Col2Im() {
        super("Col2ImBackward0");
    }

    /** Folds into an image of {@code outputH × outputW} pixels (PyTorch's {@code fold(cols, output_size, …)}). */
    public static Tensor apply(Tensor cols, int outputH, int outputW, int kernelH, int kernelW,
                               int strideH, int strideW, int padH, int padW) {
        Ops.requireFloat("fold", cols);
        if (cols.dim() != 3) {
            throw new IllegalArgumentException("fold: expected a 3-D input [N, C·kh·kw, L], got shape "
                    + Shapes.str(cols.shape()));
        }
        int kk = kernelH * kernelW;
        if (kk < 1 || cols.size(1) % kk != 0) {
            throw new IllegalArgumentException("fold: expected size of input's dimension 1 to be divisible by the "
                    + "product of kernel_size, but got input.size(1)=" + cols.size(1) + " and kernel_size=("
                    + kernelH + ", " + kernelW + ")");
        }
        Window g = new Window(cols.size(0), cols.size(1) / kk, outputH, outputW,
                kernelH, kernelW, strideH, strideW, padH, padW);
        return apply(cols, g);
    }

    static Tensor apply(Tensor cols, Window g) {
        if (!Arrays.equals(cols.shape(), g.columnShape())) {
            throw new IllegalArgumentException("fold: given output size (" + g.height() + ", " + g.width()
                    + "), kernel (" + g.kernelH() + ", " + g.kernelW() + "), stride (" + g.strideH() + ", "
                    + g.strideW() + ") and padding (" + g.padH() + ", " + g.padW() + "), expected input of shape "
                    + Shapes.str(g.columnShape()) + " (" + g.outH() + " * " + g.outW() + " sliding blocks), got "
                    + Shapes.str(cols.shape()));
        }
        Tensor out = ConvKernels.col2im(cols, g);
        if (!Graph.needsGrad(cols)) {
            return out;
        }
        Col2Im node = new Col2Im();
        node.window = g;
        return Graph.record(node, out, cols);
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Window g = window;
        return new Tensor[] {Im2Col.apply(grad, g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW())};
    }
}
