package io.sparkgrad;

import io.sparkgrad.backend.Parallel;

/**
 * Engine-wide settings. The number of threads an op may use comes from the system property
 * {@code sparkgrad.threads} (or {@link #setThreads}); it defaults to the available processors.
 * Inside Spark, set it to {@code spark.task.cpus} so that task slots × engine threads never exceed
 * the cores (the connector does this).
 */
public final class Sparkgrad {
    private Sparkgrad() {
    }

    /** Threads one op may use (including the calling thread). */
    public static int threads() {
        return Parallel.threads();
    }

    /** Resizes the engine's fixed thread pool; 1 runs every op on the calling thread. */
    public static void setThreads(int threads) {
        Parallel.setThreads(threads);
    }
}
