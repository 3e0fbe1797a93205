package io.sparkgrad.ops;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;

/**
 * {@code out = x ^ p}. With a constant exponent (PowBackward0): {@code x: grad * p * x^(p-1)}.
 * With a tensor exponent (PowBackward1): {@code x: grad * p * x^(p-1)},
 * {@code p: grad * result * ln x}, taken as 0 where {@code x == 0 and p >= 0} (as PyTorch).
 */
public final class Pow extends Node {
    private SavedTensor base;
    private SavedTensor exponentTensor;
    private SavedTensor result;
    private double exponent;

    private Pow(String name) {
        super(name);
    }

    public static Tensor apply(Tensor x, double p) {
        Ops.requireFloat("pow", x);
        Tensor out = Elementwise.binary(BinaryKernel.POW, x, Tensor.scalar(p, x.dtype()), "pow");
        if (!Graph.needsGrad(x)) {
            return out;
        }
        Pow node = new Pow("PowBackward0");
        node.exponent = p;
        node.base = node.save(x);
        return Graph.record(node, out, x);
    }

    public static Tensor apply(Tensor x, Tensor p) {
        DType t = Ops.common("pow", x, p);
        Tensor out = Elementwise.binary(BinaryKernel.POW, Ops.cast(x, t), Ops.cast(p, t), "pow");
        if (!Graph.needsGrad(x, p)) {
            return out;
        }
        Pow node = new Pow("PowBackward1");
        node.base = node.save(x);
        node.exponentTensor = node.save(p);
        Graph.record(node, out, x, p);
        if (p.requiresGrad()) {
            node.result = node.save(out);
        }
        return out;
    }

    @Override
    protected Tensor[] backward(Tensor grad) {
        Tensor x = base.unpack();
        if (exponentTensor == null) {
            if (exponent == 0) {
                return new Tensor[] {Tensor.zerosLike(grad)};
            }
            return new Tensor[] {grad.mul(x.pow(exponent - 1).mul(exponent))};
        }
        Tensor p = exponentTensor.unpack();
        Tensor gx = needsGrad(0) ? grad.mul(p.mul(x.pow(p.sub(1)))) : null;
        Tensor gp = null;
        if (needsGrad(1)) {
            Tensor raw = grad.mul(result.unpack().mul(x.log()));
            Tensor zeroBase = Ops.mask(BinaryKernel.EQ, x, 0).mul(Ops.mask(BinaryKernel.GE, p, 0));
            gp = Tensor.where(zeroBase, Tensor.zerosLike(raw), raw);
        }
        return new Tensor[] {gx, gp};
    }
}
