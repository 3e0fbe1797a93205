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
 * reduced to its shape when the op broadcast.
 */
final class Engine {
    private Engine() {
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
        Map<Node, Tensor> pending = new IdentityHashMap<>();
        List<Node> roots = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            Tensor out = outputs.get(i);
            Node root = out.gradFn() != null ? out.gradFn() : out.gradAccumulator();
            roots.add(root);
            pending.merge(root, gradOutputs.get(i), Engine::sum);
        }

        Map<Node, Integer> captureIndex = new IdentityHashMap<>();
        if (captures != null) {
            for (int i = 0; i < captures.size(); i++) {
                Tensor t = captures.get(i);
                captureIndex.put(t.gradFn() != null ? t.gradFn() : t.gradAccumulator(), i);
            }
        }

        List<Node> order = topologicalOrder(roots);
        Map<Node, Boolean> needed = captures == null ? null : neededNodes(order, captureIndex);
        Tensor[] captured = captures == null ? null : new Tensor[captures.size()];

        boolean previousMode = GradMode.setEnabled(createGraph);
        try {
            for (Node node : order) {
                Tensor grad = pending.remove(node);
                if (grad == null || (needed != null && !needed.get(node))) {
                    continue;
                }
                Integer slot = captureIndex.get(node);
                if (slot != null) {
                    captured[slot] = grad;
                }
                if (node instanceof AccumulateGrad) {
                    if (captures == null) {
                        ((AccumulateGrad) node).accumulate(grad, createGraph);
                    }
                    continue;
                }
                Tensor retained = node.retainedOutput();
                if (retained != null && captures == null) {
                    retainGrad(retained, grad, createGraph);
                }
                Tensor[] inputGrads = node.backward(grad);
                if (!retainGraph) {
                    node.releaseSaved();
                }
                Node[] next = node.next();
                for (int i = 0; i < next.length; i++) {
                    if (next[i] == null || inputGrads[i] == null) {
                        continue;
                    }
                    Tensor g = validate(node, i, inputGrads[i]);
                    pending.merge(next[i], g, Engine::sum);
                }
            }
        } finally {
            GradMode.setEnabled(previousMode);
        }
        return captured;
    }

    /** Kahn's algorithm over the nodes reachable from the roots: every node after all its consumers. */
    private static List<Node> topologicalOrder(List<Node> roots) {
        Map<Node, int[]> inDegree = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        for (Node r : roots) {
            if (inDegree.putIfAbsent(r, new int[1]) == null) {
                stack.push(r);
            }
        }
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            for (Node m : n.next()) {
                if (m == null) {
                    continue;
                }
                int[] d = inDegree.get(m);
                if (d == null) {
                    inDegree.put(m, new int[] {1});
                    stack.push(m);
                } else {
                    d[0]++;
                }
            }
        }
        List<Node> order = new ArrayList<>(inDegree.size());
        ArrayDeque<Node> ready = new ArrayDeque<>();
        for (Node r : roots) {
            int[] d = inDegree.get(r);
            if (d[0] == 0) {
                d[0] = -1;
                ready.add(r);
            }
        }
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (Node m : n.next()) {
                if (m != null && --inDegree.get(m)[0] == 0) {
                    ready.add(m);
                }
            }
        }
        return order;
    }

    /** For {@code Autograd.grad}: a node runs only if some captured tensor lies below it. */
    private static Map<Node, Boolean> neededNodes(List<Node> order, Map<Node, Integer> captureIndex) {
        Map<Node, Boolean> needed = new IdentityHashMap<>();
        for (int i = order.size() - 1; i >= 0; i--) {
            Node n = order.get(i);
            boolean need = captureIndex.containsKey(n);
            for (Node m : n.next()) {
                if (need) {
                    break;
                }
                need = m != null && needed.get(m);
            }
            needed.put(n, need);
        }
        return needed;
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
        if (!java.util.Arrays.equals(g.shape(), expected)) {
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

    private static Tensor sum(Tensor a, Tensor b) {
        return a.add(b);
    }
}
