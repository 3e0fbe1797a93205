package io.sparkgrad.autograd;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

/**
 * How an op joins the graph: it asks {@link #needsGrad} before saving anything, then
 * {@link #record}s its node as the output's {@code gradFn}.
 *
 * <pre>{@code
 * Tensor out = kernel(a, b);
 * if (Graph.needsGrad(a, b)) {
 *     Mul node = new Mul(); node.a = node.save(a); node.b = node.save(b);
 *     Graph.record(node, out, a, b);
 * }
 * }</pre>
 */
public final class Graph {
    private Graph() {
    }

    /** True when grad mode is on and at least one input requires a gradient. */
    public static boolean needsGrad(Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (t != null && t.requiresGrad()) {
                return true;
            }
        }
        return false;
    }

    public static boolean needsGrad(Tensor a) {
        return a.requiresGrad() && GradMode.isEnabled();
    }

    /** Keeps the {@code .grad} of a non-leaf tensor: the engine stores it when the tensor's node runs. */
    public static void retainGrad(Tensor nonLeaf) {
        nonLeaf.gradFn().retainGradOf(nonLeaf);
    }

    /** Makes {@code node} the output's {@code gradFn}, with one edge per input. Returns the output. */
    public static Tensor record(Node node, Tensor output, Tensor... inputs) {
        Node[] next = new Node[inputs.length];
        int[][] shapes = new int[inputs.length][];
        DType[] dtypes = new DType[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor in = inputs[i];
            if (in == null) {
                continue;
            }
            shapes[i] = in.shape();
            dtypes[i] = in.dtype();
            if (in.requiresGrad()) {
                next[i] = in.gradFn() != null ? in.gradFn() : in.gradAccumulator();
            }
        }
        node.connect(next, shapes, dtypes);
        output.attachGradFn(node);
        return output;
    }
}
