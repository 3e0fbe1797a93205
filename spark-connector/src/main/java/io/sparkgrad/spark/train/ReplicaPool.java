package io.sparkgrad.spark.train;

import io.sparkgrad.Sparkgrad;
import io.sparkgrad.nn.Module;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Model replicas kept on each executor between steps, one per concurrently running task, so a
 * step copies the broadcast parameters into an existing model instead of building one. A replica
 * holds nothing that outlives a step except its parameter values, which every step overwrites;
 * losing the pool (a new executor) costs one factory call.
 */
final class ReplicaPool {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaPool.class);
    private static final Map<String, ConcurrentLinkedDeque<Replica>> POOLS = new ConcurrentHashMap<>();
    private static volatile boolean warnedBlas;

    private ReplicaPool() {
    }

    /** A model from the factory, on the device this executor picked, and its parameter layout. */
    static final class Replica {
        final Module model;
        final ParamLayout layout;
        final io.sparkgrad.Device device;

        Replica(Module model, io.sparkgrad.Device device) {
            this.device = device;
            this.model = device.isCpu() ? model : model.to(device);
            this.layout = new ParamLayout(this.model);
        }
    }

    /** A replica for run {@code runId}: a pooled one, or a new one from the factory. */
    static Replica take(String runId, TrainerConfig cfg, int expectedSize) {
        ConcurrentLinkedDeque<Replica> pool = POOLS.computeIfAbsent(runId, k -> new ConcurrentLinkedDeque<>());
        Replica r = pool.pollFirst();
        if (r == null) {
            r = new Replica(cfg.newModel(), ExecutorDevice.pick(cfg.device()));
            if (r.layout.size() != expectedSize) {
                throw new IllegalStateException("the model factory built a model with " + r.layout.size()
                        + " parameters on this executor, but the driver's has " + expectedSize
                        + ": it must build the same architecture every time");
            }
        }
        return r;
    }

    static void give(String runId, Replica r) {
        ConcurrentLinkedDeque<Replica> pool = POOLS.get(runId);
        if (pool != null) {
            pool.addFirst(r);
        }
    }

    static void remove(String runId) {
        POOLS.remove(runId);
    }

    /**
     * Sizes the engine's thread pool for this task: {@code threadsPerTask}, or
     * {@code spark.task.cpus}, so task slots × engine threads never exceed the executor's cores.
     * Native OpenBLAS reads its thread count once, from {@code OPENBLAS_NUM_THREADS}, when it loads:
     * that must be set in the executor's environment ({@code spark.executorEnv.OPENBLAS_NUM_THREADS}),
     * and a warning says so once when it is missing or larger.
     */
    static void configureThreads(TrainerConfig cfg) {
        TaskContext tc = TaskContext.get();
        int threads = cfg.threadsPerTask() > 0 ? cfg.threadsPerTask() : tc != null ? Math.max(1, tc.cpus()) : 1;
        if (Sparkgrad.threads() != threads) {
            Sparkgrad.setThreads(threads);
        }
        if (!warnedBlas) {
            String env = System.getenv("OPENBLAS_NUM_THREADS");
            boolean ok = false;
            try {
                ok = env != null && Integer.parseInt(env.trim()) <= threads;
            } catch (NumberFormatException e) {
                ok = false;
            }
            if (!ok) {
                warnedBlas = true;
                LOG.warn("OPENBLAS_NUM_THREADS is {} on this executor; with native OpenBLAS every task may start "
                        + "a pool of all cores. Set spark.executorEnv.OPENBLAS_NUM_THREADS={} (the engine threads per "
                        + "task).", env == null ? "unset" : env, threads);
            }
        }
    }
}
