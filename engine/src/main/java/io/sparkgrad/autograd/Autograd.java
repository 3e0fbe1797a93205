package io.sparkgrad.autograd;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Entry points of the backward pass ({@code torch.autograd}): {@link #backward} accumulates into
 * leaves' {@code .grad}; {@link #grad} returns the gradients without touching any {@code .grad}.
 */
public final class Autograd {
    private Autograd() {
    }

    /** What {@code tensor.backward(gradient, retainGraph)} runs. A null gradient means 1 for a scalar. */
    public static void backward(List<Tensor> outputs, List<Tensor> gradOutputs, boolean retainGraph,
                                boolean createGraph) {
        Engine.run(outputs, seeds(outputs, gradOutputs), retainGraph, createGraph, null);
    }

    /**
     * The gradients of {@code outputs} with respect to {@code inputs}, weighted by
     * {@code gradOutputs} (the vector in the vector-Jacobian product; null entries mean 1 for
     * scalar outputs). Nothing is accumulated into any {@code .grad}. With {@code createGraph} the
     * results are themselves differentiable, which gives second derivatives.
     *
     * @throws IllegalArgumentException if an input is not used in computing the outputs
     */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph) {
        return grad(outputs, inputs, gradOutputs, retainGraph, createGraph, false);
    }

    /** As {@link #grad(List, List, List, boolean, boolean)}; with {@code allowUnused} an unused input gets null. */
    public static List<Tensor> grad(List<Tensor> outputs, List<Tensor> inputs, List<Tensor> gradOutputs,
                                    boolean retainGraph, boolean createGraph, boolean allowUnused) {
        for (int i = 0; i < inputs.size(); i++) {
            if (!inputs.get(i).requiresGrad()) {
                throw new IllegalArgumentException("input " + i + " to Autograd.grad does not require grad");
            }
        }
        Tensor[] result = Engine.run(outputs, seeds(outputs, gradOutputs), retainGraph, createGraph, inputs);
        for (int i = 0; i < result.length; i++) {
            if (result[i] == null && !allowUnused) {
                throw new IllegalArgumentException("One of the differentiated tensors (input " + i + ", shape "
                        + Shapes.str(inputs.get(i).shape()) + ") appears to not have been used in the graph. "
                        + "Pass allowUnused=true if this is the desired behaviour.");
            }
        }
        return Arrays.asList(result);
    }

    /** Convenience for one scalar output. */
    public static List<Tensor> grad(Tensor output, List<Tensor> inputs, boolean createGraph) {
        return grad(List.of(output), inputs, null, createGraph, createGraph);
    }

    private static List<Tensor> seeds(List<Tensor> outputs, List<Tensor> gradOutputs) {
        if (gradOutputs != null && gradOutputs.size() != outputs.size()) {
            throw new IllegalArgumentException("got " + gradOutputs.size() + " gradients for " + outputs.size()
                    + " outputs");
        }
        List<Tensor> seeds = new ArrayList<>(outputs.size());
        for (int i = 0; i < outputs.size(); i++) {
            Tensor out = outputs.get(i);
            if (!out.requiresGrad()) {
                throw new IllegalStateException("element " + i + " of tensors does not require grad and does not "
                        + "have a gradFn: it was computed from tensors that do not require grad, inside "
                        + "GradMode.noGrad(), or from a detach()ed tensor");
            }
            Tensor g = gradOutputs == null ? null : gradOutputs.get(i);
            if (g == null) {
                if (out.numel() != 1) {
                    throw new IllegalArgumentException("grad can be implicitly created only for scalar outputs, but "
                            + "output " + i + " has shape " + Shapes.str(out.shape()) + "; pass a gradient of that shape "
                            + "(the vector of the vector-Jacobian product)");
                }
                g = Tensor.onesLike(out);
            } else if (!Arrays.equals(g.shape(), out.shape())) {
                throw new IllegalArgumentException("Mismatch in shape: grad_output[" + i + "] has a shape of "
                        + Shapes.str(g.shape()) + " and output[" + i + "] has a shape of " + Shapes.str(out.shape()));
            } else if (g.dtype() != out.dtype()) {
                throw new IllegalArgumentException("Mismatch in dtype: grad_output[" + i + "] is " + g.dtype()
                        + " but output[" + i + "] is " + out.dtype());
            }
            seeds.add(g);
        }
        return seeds;
    }
}
