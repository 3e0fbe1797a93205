package io.sparkgrad.backend;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Intra-op parallelism over one fixed pool of daemon threads, sized by {@code sparkgrad.threads}
 * (default: available processors). No thread is started per op: a parallel loop hands chunks to
 * the parked workers, runs one chunk on the calling thread, and waits for the rest. A loop started
 * from inside a worker runs serially, so nested parallel ops cannot deadlock, and several caller
 * threads (Spark tasks in one executor) can share the pool.
 */
public final class Parallel {
    /** A range body: processes indices {@code [start, end)}. */
    public interface Body {
        void run(int start, int end);
    }

    private static volatile Pool pool = new Pool(initialThreads());

    private Parallel() {
    }

    private static int initialThreads() {
        String p = System.getProperty("sparkgrad.threads");
        int n = p == null ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(p.trim());
        if (n < 1) {
            throw new IllegalArgumentException("sparkgrad.threads must be at least 1, got " + p);
        }
        return n;
    }

    public static int threads() {
        return pool.threads;
    }

    public static synchronized void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        if (threads != pool.threads) {
            Pool old = pool;
            pool = new Pool(threads);
            old.shutdown();
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} chunks of at
     * least {@code grain} indices; serially when that gives one chunk.
     */
    public static void forRange(int n, int grain, Body body) {
        Pool p = pool;
        int chunks = Math.min(p.threads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || Thread.currentThread() instanceof Worker) {
            if (n > 0) {
                body.run(0, n);
            }
            return;
        }
        p.run(n, chunks, body);
    }

    private static final class Worker extends Thread {
        Worker(Runnable r, int id) {
            super(r, "sparkgrad-worker-" + id);
            setDaemon(true);
        }
    }

    /** One parallel loop in flight: its chunks are claimed by index so every chunk runs exactly once. */
    private static final class Job {
        final int n;
        final int chunks;
        final Body body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int n, int chunks, Body body) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
        }

        /** Claims and runs chunks until none are left. */
        void work() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                long start = (long) n * c / chunks;
                long end = (long) n * (c + 1) / chunks;
                try {
                    body.run((int) start, (int) end);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == chunks) {
                        synchronized (this) {
                            notifyAll();
                        }
                    }
                }
            }
        }

        synchronized void await() {
            boolean interrupted = false;
            while (done.get() < chunks) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static final class Pool {
        final int threads;
        final BlockingQueue<Job> queue;
        final Worker[] workers;

        Pool(int threads) {
            this.threads = threads;
            this.queue = new ArrayBlockingQueue<>(1024);
            this.workers = new Worker[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this::loop, i);
                workers[i].start();
            }
        }

        void run(int n, int chunks, Body body) {
            Job job = new Job(n, chunks, body);
            for (int i = 0; i < Math.min(chunks - 1, workers.length); i++) {
                if (!queue.offer(job)) {
                    break; // pool saturated: the caller simply does more of the work itself
                }
            }
            job.work();
            job.await();
            Throwable t = job.failure.get();
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
        }

        private void loop() {
            try {
                while (true) {
                    Job job = queue.take();
                    if (job.body == null) {
                        return;
                    }
                    job.work();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void shutdown() {
            for (int i = 0; i < workers.length; i++) {
                queue.offer(new Job(0, 0, null));
            }
        }
    }
}
