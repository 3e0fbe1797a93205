package io.sparkgrad.autograd;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One recorded operation in the graph: PyTorch's {@code grad_fn}. Subclasses (one per primitive in
 * {@code io.sparkgrad.ops}) write only the formula from the output's gradient to each input's
 * gradient; the engine does the bookkeeping: it skips inputs that need no gradient, sums a
 * broadcast gradient back to the input's shape, casts it to the input's dtype, and frees saved
 * tensors after use unless the graph is retained.
 */
public abstract class Node {
    private final String name;
    /** Where each input's gradient goes: its producer's node, its {@link AccumulateGrad}, or null. */
    private Node[] next = new Node[0];
    private int[][] inputShapes = new int[0][];
    private DType[] inputDtypes = new DType[0];
    private List<SavedTensor> saved = Collections.emptyList();
    /** The non-leaf output whose {@code .grad} is kept because {@code retainGrad()} was called. */
    private Tensor retainedOutput;

    protected Node(String name) {
        this.name = name;
    }

    /** PyTorch's node name, such as {@code AddBackward0} or {@code MmBackward0}. */
    public String name() {
        return name;
    }

    /** The nodes this one sends gradients to, one per input (null where an input needs none). */
    public List<Node> nextFunctions() {
        return Collections.unmodifiableList(java.util.Arrays.asList(next));
    }

    /**
     * The gradient formula: given the gradient of the output, the gradient of each input (in the
     * order the inputs were given to {@link Graph#record}); an entry may be null when that input
     * needs no gradient ({@link #needsGrad(int)}). Written with differentiable tensor operations,
     * so that {@code createGraph=true} makes it differentiable in turn.
     */
    protected abstract Tensor[] backward(Tensor gradOutput);

    /** Whether input {@code i} wants a gradient, so a formula can skip work it would throw away. */
    protected final boolean needsGrad(int i) {
        return next[i] != null;
    }

    /** Keeps a tensor for the backward formula, guarded by its version counter. */
    protected final SavedTensor save(Tensor t) {
        if (saved.isEmpty()) {
            saved = new ArrayList<>(2);
        }
        SavedTensor s = new SavedTensor(this, t);
        saved.add(s);
        return s;
    }

    final void connect(Node[] next, int[][] inputShapes, DType[] inputDtypes) {
        this.next = next;
        this.inputShapes = inputShapes;
        this.inputDtypes = inputDtypes;
    }

    final Node[] next() {
        return next;
    }

    final int[] inputShape(int i) {
        return inputShapes[i];
    }

    final DType inputDtype(int i) {
        return inputDtypes[i];
    }

    final void releaseSaved() {
        for (SavedTensor s : saved) {
            s.release();
        }
    }

    final void retainGradOf(Tensor output) {
        this.retainedOutput = output;
    }

    final Tensor retainedOutput() {
        return retainedOutput;
    }

    @Override
    public String toString() {
        return "<" + name + ">";
    }
}
