package io.sparkgrad.autograd;

/**
 * Whether operations record the graph, per thread (as {@code torch.no_grad()} is thread-local:
 * Spark runs many tasks in one executor JVM, and one task's no-grad scope must not leak into
 * another's).
 *
 * <pre>{@code
 * try (var g = GradMode.noGrad()) {
 *     Tensor z = x.matmul(w).add(b);   // z.requiresGrad() == false
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Sets the mode for this thread and returns the previous one. Prefer the scoped forms. */
    public static boolean setEnabled(boolean enabled) {
        boolean[] cell = ENABLED.get();
        boolean previous = cell[0];
        cell[0] = enabled;
        return previous;
    }

    /** A scope in which no graph is recorded; closing it restores the previous mode. */
    public static Guard noGrad() {
        return new Guard(setEnabled(false));
    }

    /** A scope in which the graph is recorded even inside an enclosing {@link #noGrad()}. */
    public static Guard enableGrad() {
        return new Guard(setEnabled(true));
    }

    /** Restores the grad mode that was in force when the scope opened. */
    public static final class Guard implements AutoCloseable {
        private final boolean previous;
        private boolean closed;

        private Guard(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                setEnabled(previous);
            }
        }
    }
}
