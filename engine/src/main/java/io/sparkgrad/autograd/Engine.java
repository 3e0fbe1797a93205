package io.sparkgrad.autograd;

import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backward pass. It walks the graph without recursion (a chain of 100,000 nodes must not
 * overflow the stack): first a discovery pass that counts, for every node, how many edges lead
 * into it; then Kahn's algorithm, which runs a node only once every gradient bound for it has
 * arrived and been summed. Each formula's result is checked against the input it belongs to and
 * reduced to its shape when the op broadcast. All bookkeeping lives in this call's own map, so
 * graphs that share leaves can run backward on several threads at once.
 */
final class Engine {
    private Engine() {
    }

    /** Per-node bookkeeping for one backward pass. */
    private static final class Slot {
        int dependencies;
        Tensor grad;
        boolean needed = true;
    }

    /**
     * Runs backward from {@code outputs}, seeded with {@code gradOutputs}.
     *
     * @param captures when non-null, the tensors whose gradients are returned instead of being
     *                 accumulated into leaves ({@code Autograd.grad}); null for {@code backward()}
     * @return the captured gradients, in the order of {@code captures} (null where none arrived)
     */
    static Tensor[] run(List<Tensor> outputs, List<Tensor> gradOutputs, boolean retainGraph, boolean createGraph,
                        List<Tensor> captures) {
        List<Node> roots = new ArrayList<>(outputs.size());
        for (Tensor out : outputs) {
            roots.add(out.gradFn() != null ? out.gradFn() : out.gradAccumulator());
        }
        Map<Node, Slot> slots = discover(roots);
        for (int i = 0; i < roots.size(); i++) {
            Slot s = slots.get(roots.get(i));
            s.grad = s.grad == null ? gradOutputs.get(i) : s.grad.add(gradOutputs.get(i));
        }

        Map<Node, Integer> captureIndex = null;
        Tensor[] captured = null;
        if (captures != null) {
            captureIndex = new IdentityHashMap<>();
            for (int i = 0; i < captures.size(); i++) {
                Tensor t = captures.get(i);
                captureIndex.put(t.gradFn() != null ? t.gradFn() : t.gradAccumulator(), i);
            }
            markNeeded(roots, slots, captureIndex);
            captured = new Tensor[captures.size()];
        }

        ArrayDeque<Node> ready = new ArrayDeque<>();
        for (Node r : roots) {
            Slot s = slots.get(r);
            if (s.dependencies == 0) {
                s.dependencies = -1;
                ready.add(r);
            }
        }
        boolean previousMode = GradMode.setEnabled(createGraph);
        try {
            while (!ready.isEmpty()) {
                Node node = ready.poll();
                Slot slot = slots.get(node);
                Tensor grad = slot.grad;
                slot.grad = null;
                Tensor[] inputGrads = grad == null || !slot.needed ? null
                        : apply(node, grad, retainGraph, createGraph, captureIndex, captured);
                Node[] next = node.next();
                for (int i = 0; i < next.length; i++) {
                    Node m = next[i];
                    if (m == null) {
                        continue;
                    }
                    Slot target = slots.get(m);
                    if (inputGrads != null && inputGrads[i] != null) {
                        Tensor g = validate(node, i, inputGrads[i]);
                        target.grad = target.grad == null ? g : target.grad.add(g);
                    }
                    if (--target.dependencies == 0) {
                        ready.add(m);
                    }
                }
            }
        } finally {
            GradMode.setEnabled(previousMode);
        }
        return captured;
    }

    /** Runs one node: captures, accumulates into a leaf, or applies the gradient formula. */
    private static Tensor[] apply(Node node, Tensor grad, boolean retainGraph, boolean createGraph,
                                  Map<Node, Integer> captureIndex, Tensor[] captured) {
        if (captureIndex != null) {
            Integer at = captureIndex.get(node);
            if (at != null) {
                captured[at] = grad;
            }
        }
        if (node instanceof AccumulateGrad) {
            if (captureIndex == null) {
                ((AccumulateGrad) node).accumulate(grad, createGraph);
            }
            return null;
        }
        Tensor retained = node.retainedOutput();
        if (retained != null && captureIndex == null) {
            retainGrad(retained, grad, createGraph);
        }
        Tensor[] inputGrads = node.backward(grad);
        if (!retainGraph) {
            node.releaseSaved();
        }
        return inputGrads;
    }

    /** Every node reachable from the roots, with the number of edges that lead into it. */
    private static Map<Node, Slot> discover(List<Node> roots) {
        Map<Node, Slot> slots = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Node r : roots) {
            if (slots.putIfAbsent(r, new Slot()) == null) {
                stack.push(r);
            }
        }
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            for (Node m : n.next()) {
                if (m == null) {
                    continue;
                }
                Slot s = slots.get(m);
                if (s == null) {
                    s = new Slot();
                    slots.put(m, s);
                    stack.push(m);
                }
                s.dependencies++;
            }
        }
        return slots;
    }

    /**
     * For {@code Autograd.grad}: a node runs only if some captured tensor lies at or below it.
     * Visits nodes consumers-first (Kahn's order on a copy of the counts), then decides in reverse.
     */
    private static void markNeeded(List<Node> roots, Map<Node, Slot> slots, Map<Node, Integer> captureIndex) {
        Map<Node, int[]> remaining = new IdentityHashMap<>();
        for (Map.Entry<Node, Slot> e : slots.entrySet()) {
            remaining.put(e.getKey(), new int[] {e.getValue().dependencies});
        }
        List<Node> order = new ArrayList<>(slots.size());
        ArrayDeque<Node> ready = new ArrayDeque<>();
        for (Node r : roots) {
            int[] d = remaining.get(r);
            if (d[0] == 0) {
                d[0] = -1;
                ready.add(r);
            }
        }
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (Node m : n.next()) {
                if (m != null && --remaining.get(m)[0] == 0) {
                    ready.add(m);
                }
            }
        }
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            boolean need = captureIndex.containsKey(n);
            for (Node m : n.next()) {
                if (need) {
                    break;
                }
                need = m != null && slots.get(m).needed;
            }
            slots.get(n).needed = need;
        }
    }

    private static void retainGrad(Tensor output, Tensor grad, boolean createGraph) {
        Tensor current = output.grad();
        if (current == null) {
            output.setGrad(createGraph ? grad : grad.detach().clone());
        } else {
            output.setGrad(createGraph ? current.add(grad) : current.detach().add(grad.detach()));
        }
    }

    /** Checks a formula's gradient against its input: sums broadcast dimensions away, casts dtype. */
    private static Tensor validate(Node node, int i, Tensor g) {
        int[] expected = node.inputShape(i);
        if (!g.hasShape(expected)) {
            if (!Shapes.expandable(expected, g.shape())) {
                throw new IllegalStateException("Function " + node.name() + " returned an invalid gradient at index "
                        + i + " - got " + Shapes.str(g.shape()) + " but expected shape compatible with "
                        + Shapes.str(expected));
            }
            g = g.sumToShape(expected);
        }
        if (g.dtype() != node.inputDtype(i)) {
            g = g.to(node.inputDtype(i));
        }
        return g;
    }
}
