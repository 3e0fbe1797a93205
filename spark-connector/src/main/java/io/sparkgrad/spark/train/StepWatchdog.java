package io.sparkgrad.spark.train;

import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import scala.jdk.javaapi.CollectionConverters;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Bounds the time of one step's Spark jobs ({@link TrainerConfig#stepTimeout()}). The driver thread
 * tags the step's jobs with a job tag of its own (tags add to the user's job group and tags rather
 * than replacing them, so a notebook's "cancel cell" keeps working) and asks for task interruption
 * on cancel; a timer thread cancels the tagged jobs when the deadline passes, which makes the
 * blocked {@code treeAggregate} on the driver thread fail at once, and the failure becomes a
 * {@link StepTimeoutException} that says which step, which partitions were still running where,
 * and which setting to change. A listener follows the tagged jobs' tasks for that message (Spark's
 * status store updates live stages only now and then, so it can say "0 running" about a stage
 * whose task hangs). A step that ends in time costs one timer entry and a few map updates.
 *
 * <p>Cancelling by tag reaches only the jobs running at that moment. So that a deadline is kept
 * however short it is, the listener also cancels each job of an expired step as it starts (a job
 * submitted after the deadline, or one the step was still submitting), and a step whose jobs return
 * after the deadline fails as well: it did not finish within the limit, whatever its jobs did.
 */
final class StepWatchdog implements AutoCloseable {
    private static final String INTERRUPT_ON_CANCEL = "spark.job.interruptOnCancel";
    /** SparkContext.SPARK_JOB_TAGS: the local property that carries a job's tags, comma-separated. */
    private static final String JOB_TAGS = "spark.job.tags";

    private final SparkContext sc;
    private final Duration timeout;
    private final String tagPrefix;
    private final ScheduledExecutorService timer;
    private final TaskTracker tasks;
    private long sequence;

    StepWatchdog(SparkContext sc, Duration timeout, String runId) {
        this.sc = Objects.requireNonNull(sc, "sc");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.tagPrefix = runId + "-step-";
        if (timeout.isZero()) {
            this.timer = null;
            this.tasks = null;
        } else {
            this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "sparkgrad-step-watchdog");
                t.setDaemon(true);
                return t;
            });
            this.tasks = new TaskTracker(sc, tagPrefix);
            sc.addSparkListener(tasks);
        }
    }

    /**
     * Runs {@code jobs} (which submits Spark jobs from this thread and waits for them) under the
     * deadline; {@code step} names the step in the error.
     *
     * @throws StepTimeoutException when the deadline passed before the jobs returned; they are cancelled,
     *                              and so is any job of the step that starts later
     */
    <T> T run(String step, Supplier<T> jobs) {
        if (timer == null) {
            return jobs.get();
        }
        String tag = tagPrefix + (++sequence);
        String previousInterrupt = sc.getLocalProperty(INTERRUPT_ON_CANCEL);
        sc.addJobTag(tag);
        sc.setInterruptOnCancel(true);
        Alarm alarm = new Alarm(tag, step + " exceeded stepTimeout = " + StepTimeoutException.describe(timeout));
        T result;
        try {
            result = jobs.get();
        } catch (Exception e) { // also a SparkException, which Spark's Scala code throws undeclared
            String progress = alarm.stop();
            if (progress != null) {
                throw new StepTimeoutException(step, timeout, progress, e);
            }
            throw e;
        } finally {
            alarm.stop();
            sc.removeJobTag(tag);
            sc.setLocalProperty(INTERRUPT_ON_CANCEL, previousInterrupt);
            tasks.forget(tag);
        }
        String progress = alarm.stop();
        if (progress != null) {
            throw new StepTimeoutException(step, timeout, progress, null);
        }
        return result;
    }

    /** One step's deadline on the timer thread. */
    private final class Alarm {
        private final String tag;
        private final String reason;
        private final ScheduledFuture<?> future;
        private boolean stopped;
        /** What the step's tasks were doing when the deadline passed; null until it passes. */
        private String progress;

        Alarm(String tag, String reason) {
            this.tag = tag;
            this.reason = reason;
            this.future = timer.schedule(this::ring, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        private synchronized void ring() {
            if (stopped) {
                return;
            }
            progress = tasks.describe(tag);
            // Expire first: a job that Spark registers after the cancel below is then cancelled as it starts.
            tasks.expire(tag, reason);
            sc.cancelJobsWithTag(tag, reason);
        }

        /**
         * Stops the timer (after a ring under way, which holds the lock) and says whether the
         * deadline passed: what the step's tasks were doing then, or null. Can be called again.
         */
        synchronized String stop() {
            stopped = true;
            future.cancel(false);
            return progress;
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            sc.removeSparkListener(tasks);
        }
    }

    /**
     * The running tasks of the stages of jobs tagged by this watchdog, from Spark's listener events;
     * cancels the jobs of expired steps as they start.
     */
    private static final class TaskTracker extends SparkListener {
        private final SparkContext sc;
        private final String tagPrefix;
        /** Tag of a step whose deadline passed to the reason its jobs are cancelled with. */
        private final Map<String, String> expired = new ConcurrentHashMap<>();
        /** Stage id to {tag, task count, tasks finished}. */
        private final Map<Integer, Stage> stages = new ConcurrentHashMap<>();
        private final Map<Long, TaskInfo> running = new ConcurrentHashMap<>();
        private final Map<Long, Integer> stageOfTask = new ConcurrentHashMap<>();

        private record Stage(String tag, int numTasks, AtomicInteger finished) {
        }

        TaskTracker(SparkContext sc, String tagPrefix) {
            this.sc = sc;
            this.tagPrefix = tagPrefix;
        }

        @Override
        public void onJobStart(SparkListenerJobStart job) {
            Properties p = job.properties();
            String tags = p == null ? null : p.getProperty(JOB_TAGS);
            if (tags == null) {
                return;
            }
            for (String tag : tags.split(",")) {
                if (tag.startsWith(tagPrefix)) {
                    for (StageInfo s : CollectionConverters.asJava(job.stageInfos())) {
                        stages.put(s.stageId(), new Stage(tag, s.numTasks(), new AtomicInteger()));
                    }
                    String reason = expired.get(tag);
                    if (reason != null) {
                        sc.cancelJob(job.jobId(), reason);
                    }
                }
            }
        }

        @Override
        public void onTaskStart(SparkListenerTaskStart start) {
            if (stages.containsKey(start.stageId())) {
                running.put(start.taskInfo().taskId(), start.taskInfo());
                stageOfTask.put(start.taskInfo().taskId(), start.stageId());
            }
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd end) {
            running.remove(end.taskInfo().taskId());
            stageOfTask.remove(end.taskInfo().taskId());
            Stage s = stages.get(end.stageId());
            if (s != null && end.taskInfo().successful()) {
                s.finished().incrementAndGet();
            }
        }

        /** E.g. "stage 25: partition 1 on executor 0 (host 127.0.0.1) running for 3.0 s; 2 of 3 tasks finished". */
        String describe(String tag) {
            long now = System.currentTimeMillis();
            Map<Integer, List<String>> byStage = new TreeMap<>();
            running.forEach((id, t) -> {
                Integer stageId = stageOfTask.get(id);
                Stage s = stageId == null ? null : stages.get(stageId);
                if (s != null && s.tag().equals(tag)) {
                    byStage.computeIfAbsent(stageId, k -> new ArrayList<>()).add(String.format(Locale.ROOT,
                            "partition %d on executor %s (host %s) running for %.1f s", t.index(), t.executorId(),
                            t.host(), (now - t.launchTime()) / 1000.0));
                }
            });
            List<String> parts = new ArrayList<>();
            byStage.forEach((stageId, list) -> {
                Stage s = stages.get(stageId);
                list.sort(null);
                parts.add("stage " + stageId + ": " + String.join(", ", list) + "; " + s.finished().get() + " of "
                        + s.numTasks() + " tasks finished");
            });
            if (!parts.isEmpty()) {
                return String.join("; ", parts);
            }
            // Listener events come late, so "not seen" rather than "not started".
            boolean jobSeen = stages.values().stream().anyMatch(s -> s.tag().equals(tag));
            return jobSeen ? "no task of the step was running: it was waiting for executors or for results"
                    : "no job of the step had been seen to start: it was still being prepared or submitted";
        }

        /** From now on, cancel each job of {@code tag} as it starts. */
        void expire(String tag, String reason) {
            expired.put(tag, reason);
        }

        void forget(String tag) {
            expired.remove(tag);
            stages.values().removeIf(s -> s.tag().equals(tag));
            stageOfTask.values().removeIf(stageId -> !stages.containsKey(stageId));
            running.keySet().removeIf(id -> !stageOfTask.containsKey(id));
        }
    }
}
