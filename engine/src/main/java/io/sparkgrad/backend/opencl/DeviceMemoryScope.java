package io.sparkgrad.backend.opencl;

import io.sparkgrad.Device;
import io.sparkgrad.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Owns the device memory allocated on one OpenCL device while it is open on this thread, and
 * counts it. Nothing needs closing for memory to be freed (a dropped tensor's buffer is released
 * by a {@code Cleaner}); a scope adds two things:
 * <ul>
 * <li>accounting: live buffers and bytes, allocated since the scope opened;
 * <li>release at close: every buffer of the scope still live is released then, so a training step
 *     frees its intermediates deterministically; {@link #keep(Tensor)} hands a tensor that must
 *     outlive the scope to the enclosing one. A tensor used after its memory was released fails
 *     with a message that says so.
 * </ul>
 * A <em>checked</em> scope ({@link #openChecked}) is for tests: its close lets the GC collect what
 * was dropped and then fails, naming the count and bytes, if anything allocated inside is still
 * reachable: a leak.
 *
 * <pre>{@code
 * try (DeviceMemoryScope step = DeviceMemoryScope.open(Device.of("opencl:0"))) {
 *     Tensor loss = model.forward(x).sub(y).pow(2).mean();
 *     loss.backward();
 * }   // the step's activations are released here, whether or not the GC has run
 * }</pre>
 */
public final class DeviceMemoryScope implements AutoCloseable {
    private static final ThreadLocal<Deque<DeviceMemoryScope>> OPEN = ThreadLocal.withInitial(ArrayDeque::new);

    private final ClContext context;
    private final DeviceMemoryScope parent;
    private final boolean checked;
    private final Set<ClBuffer.Release> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong allocated = new AtomicLong();
    /** Shared by all scopes of a context: its live bytes, for the GC nudge before an allocation. */
    private final AtomicLong contextLive;
    private boolean closed;

    private DeviceMemoryScope(ClContext context, DeviceMemoryScope parent, boolean checked, AtomicLong contextLive) {
        this.context = context;
        this.parent = parent;
        this.checked = checked;
        this.contextLive = contextLive;
    }

    /** The context's outermost scope: never closed, its buffers freed only by the Cleaner. */
    static DeviceMemoryScope root(ClContext context) {
        return new DeviceMemoryScope(context, null, false, new AtomicLong());
    }

    /** Opens a scope for allocations on {@code device} by this thread. */
    public static DeviceMemoryScope open(Device device) {
        return open(device, false);
    }

    /** A scope whose close fails if memory allocated inside is still reachable (leak detection in tests). */
    public static DeviceMemoryScope openChecked(Device device) {
        return open(device, true);
    }

    private static DeviceMemoryScope open(Device device, boolean checked) {
        ClContext c = ClContext.of(device);
        DeviceMemoryScope parent = current(c);
        DeviceMemoryScope s = new DeviceMemoryScope(c, parent, checked, c.root.contextLive);
        OPEN.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread for {@code context}, or its root. */
    static DeviceMemoryScope current(ClContext context) {
        for (DeviceMemoryScope s : OPEN.get()) {
            if (s.context == context) {
                return s;
            }
        }
        return context.root;
    }

    /** Live bytes on {@code device} over all scopes (0 if it was never opened). */
    public static long deviceLiveBytes(Device device) {
        return ClContext.of(device).root.contextLive.get();
    }

    long contextLiveBytes() {
        return contextLive.get();
    }

    void adopt(ClBuffer.Release r) {
        r.owner = this;
        live.add(r);
        liveBytes.addAndGet(r.bytes);
        allocated.incrementAndGet();
        contextLive.addAndGet(r.bytes);
    }

    void released(ClBuffer.Release r) {
        if (live.remove(r)) {
            liveBytes.addAndGet(-r.bytes);
            contextLive.addAndGet(-r.bytes);
        }
    }

    /** Buffers allocated in this scope and not yet released. */
    public int liveBuffers() {
        return live.size();
    }

    public long liveBytes() {
        return liveBytes.get();
    }

    /** Buffers allocated in this scope since it opened (released or not). */
    public long allocatedBuffers() {
        return allocated.get();
    }

    /**
     * Hands {@code tensor}'s memory (and its gradient's, if any) to the enclosing scope, so it
     * survives this scope's close. Returns the tensor.
     */
    public Tensor keep(Tensor tensor) {
        moveToParent(tensor);
        if (tensor.grad() != null) {
            moveToParent(tensor.grad());
        }
        return tensor;
    }

    private void moveToParent(Tensor t) {
        if (!(t.storage().memory() instanceof ClBuffer)) {
            return;
        }
        ClBuffer.Release r = ((ClBuffer) t.storage().memory()).release();
        if (r.owner == this && live.remove(r)) {
            liveBytes.addAndGet(-r.bytes);
            contextLive.addAndGet(-r.bytes);
            DeviceMemoryScope to = parent != null ? parent : context.root;
            to.adopt(r);
            to.allocated.decrementAndGet();
        }
    }

    /**
     * Releases every buffer of this scope still live. A checked scope first lets the GC collect
     * what was dropped and fails if anything is still reachable.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.get().remove(this);
        String leak = null;
        if (checked && !live.isEmpty()) {
            for (int i = 0; i < 20 && !live.isEmpty(); i++) {
                System.gc();
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!live.isEmpty()) {
                List<Long> sizes = new ArrayList<>();
                for (ClBuffer.Release r : live) {
                    sizes.add(r.bytes);
                }
                sizes.sort(null);
                leak = live.size() + " buffer(s), " + liveBytes.get() + " bytes on " + context.device
                        + " allocated in this scope are still reachable at its close (sizes in bytes: " + sizes + ")";
            }
        }
        List<ClBuffer.Release> rest = new ArrayList<>(live);
        for (ClBuffer.Release r : rest) {
            r.run();
        }
        if (leak != null) {
            throw new IllegalStateException("device memory leak: " + leak);
        }
    }
}
