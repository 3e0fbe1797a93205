package io.sparkgrad.ops;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Elementwise;
import io.sparkgrad.backend.Layout;

import java.util.Arrays;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * In-place ops ({@code add_}, {@code mul_}, {@code copy_}, …). Outside the graph (no-grad, or no
 * operand requiring grad) they write straight into the storage: that is how optimizers update
 * parameters and how gradients accumulate without allocating. Inside the graph the result is
 * computed from a snapshot of the old values and the tensor takes the new node as its history,
 * so saved tensors stay valid; either way the storage's version counter moves, so any node that
 * saved this tensor earlier refuses to backward through the stale value.
 */
public final class InPlace {
    private InPlace() {
    }

    /** {@code self = self op other}. */
    public static Tensor binary(Tensor self, Tensor other, BinaryKernel kernel, String name, BinaryOperator<Tensor> op) {
        checkWritable(self, name);
        if (Graph.needsGrad(self, other)) {
            return rebase(self, name, op.apply(snapshot(self), other));
        }
        int[] shape = Shapes.broadcast(name, self.shape(), other.shape());
        if (!Arrays.equals(shape, self.shape())) {
            throw new IllegalArgumentException(name + ": output with shape " + Shapes.str(self.shape())
                    + " doesn't match the broadcast shape " + Shapes.str(shape));
        }
        Tensor rhs = other.dtype() == self.dtype() ? other : Ops.cast(other, self.dtype());
        if (rhs.storage() == self.storage() && !sameLayout(rhs, self)) {
            rhs = Layout.contiguousCopy(rhs);
        }
        Elementwise.binaryInto(kernel, self, rhs, self, name);
        self.storage().bumpVersion();
        return self;
    }

    /** {@code self = op(self)}. */
    public static Tensor unary(Tensor self, String name, UnaryOperator<Tensor> op) {
        checkWritable(self, name);
        if (Graph.needsGrad(self)) {
            return rebase(self, name, op.apply(snapshot(self)));
        }
        Tensor result;
        try (var g = GradMode.noGrad()) {
            result = op.apply(self);
        }
        Layout.copyInto(result, self);
        self.storage().bumpVersion();
        return self;
    }

    /** {@code self = value} everywhere; inside the graph the old history receives no gradient. */
    public static Tensor fill_(Tensor self, double value) {
        checkWritable(self, "fill_");
        if (Graph.needsGrad(self)) {
            return rebase(self, "fill_", Fill.apply(self, value));
        }
        Layout.fill(self, value);
        self.storage().bumpVersion();
        return self;
    }

    /** {@code self = src} broadcast and converted; gradients flow to {@code src} when recorded. */
    public static Tensor copy_(Tensor self, Tensor src) {
        checkWritable(self, "copy_");
        if (!Shapes.expandable(src.shape(), self.shape())) {
            throw new IllegalArgumentException("copy_: source of shape " + Shapes.str(src.shape())
                    + " cannot be broadcast to " + Shapes.str(self.shape()));
        }
        if (Graph.needsGrad(src) && self.dtype().isFloatingPoint()) {
            return rebase(self, "copy_", src.to(self.dtype()).expand(self.shape()).clone());
        }
        Tensor source = src.storage() == self.storage() ? Layout.contiguousCopy(src) : src;
        Layout.copyInto(source, self);
        self.storage().bumpVersion();
        return self;
    }

    /**
     * The checks PyTorch makes before any in-place write: a leaf that requires grad can only be
     * changed under no-grad, and a view of a tensor in the graph cannot take a new history here.
     */
    public static void checkWritable(Tensor self, String name) {
        if (!GradMode.isEnabled()) {
            return;
        }
        if (self.isLeaf() && self.requiresGrad()) {
            throw new IllegalStateException(name + ": a leaf tensor that requires grad (shape " + Shapes.str(self.shape())
                    + ") is being used in an in-place operation; wrap the update in GradMode.noGrad()");
        }
        if (self.isView() && self.viewBase().requiresGrad()) {
            throw new IllegalStateException(name + ": in-place operation on a view (shape " + Shapes.str(self.shape())
                    + ") of a tensor that requires grad is not supported; clone() the view first");
        }
    }

    private static Tensor snapshot(Tensor self) {
        return self.requiresGrad() ? self.clone() : Layout.contiguousCopy(self);
    }

    private static Tensor rebase(Tensor self, String name, Tensor result) {
        if (!Arrays.equals(result.shape(), self.shape())) {
            throw new IllegalArgumentException(name + ": output with shape " + Shapes.str(self.shape())
                    + " doesn't match the broadcast shape " + Shapes.str(result.shape()));
        }
        Layout.copyInto(result, self);
        self.storage().bumpVersion();
        self.attachGradFn(result.gradFn());
        return self;
    }

    private static boolean sameLayout(Tensor a, Tensor b) {
        return a.storageOffset() == b.storageOffset() && Arrays.equals(a.stride(), b.stride());
    }
}
