package io.sparkgrad.jobs.train;

import io.sparkgrad.spark.train.EpochStats;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Training progress on the driver's console, followed from Spark's listener bus: the trainer runs
 * one Spark job per step and describes it as {@code sparkgrad epoch e/E step s/S}, so every finished
 * step job moves the progress on.
 *
 * <p>With a terminal ({@link Mode#BAR}) one line per epoch is redrawn in place (at most five times
 * a second): a bar, rows done, rows/s, time left and the loss; at the end of the epoch it becomes
 * the epoch's summary line. Without one ({@link Mode#LINES}) a plain line is printed at each quarter
 * of an epoch and one per epoch, so logs stay short. The loss shown while an epoch runs is the
 * epoch's running mean, which the trainer puts on each step's job description; before the
 * epoch's first step has finished, the previous epoch's ("prev loss").
 */
public final class Progress extends SparkListener {
    /** How progress is shown. */
    public enum Mode {
        BAR, LINES, NONE;

        /** {@code auto}: a bar when the driver has a terminal ({@code System.console() != null}), else lines. */
        public static Mode parse(String s) {
            switch (s) {
                case "auto": return System.console() != null ? BAR : LINES;
                case "bar": return BAR;
                case "lines": return LINES;
                default: return NONE;
            }
        }
    }

    private static final Pattern STEP = Pattern.compile("sparkgrad epoch (\\d+)/\\d+ step (\\d+)/(\\d+)");
    private static final Pattern RUNNING_LOSS = Pattern.compile("running loss (\\S+)");
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintStream out;
    private final Mode mode;
    private final int totalEpochs;
    private final Map<Integer, int[]> running = new HashMap<>();
    private long rowsPerEpoch;
    private int epoch;
    private int stepsDone;
    private int stepsBefore;
    private int finished;
    private int steps;
    private long epochStart;
    private long lastDraw;
    private int lastQuarter;
    private double previousLoss = Double.NaN;
    private double runningLoss = Double.NaN;
    private final Map<Integer, Double> runningLossOfJob = new HashMap<>();
    private int drawn;

    /**
     * @param rowsPerEpoch training rows per epoch (an estimate until the first epoch is done)
     * @param totalEpochs  the epochs the run will have in all
     */
    public Progress(PrintStream out, Mode mode, long rowsPerEpoch, int totalEpochs) {
        this.out = out;
        this.mode = mode;
        this.rowsPerEpoch = rowsPerEpoch;
        this.totalEpochs = totalEpochs;
    }

    @Override
    public void onJobStart(SparkListenerJobStart start) {
        Properties p = start.properties();
        String d = p == null ? null : p.getProperty("spark.job.description");
        Matcher m = d == null ? null : STEP.matcher(d);
        if (m != null && m.find()) {
            int[] s = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
            Matcher loss = RUNNING_LOSS.matcher(d);
            synchronized (this) {
                running.put(start.jobId(), s);
                if (loss.find()) {
                    runningLossOfJob.put(start.jobId(), Double.parseDouble(loss.group(1)));
                }
                started(s[0], s[1]);
            }
        }
    }

    @Override
    public void onJobEnd(SparkListenerJobEnd end) {
        synchronized (this) {
            int[] s = running.remove(end.jobId());
            Double loss = runningLossOfJob.remove(end.jobId());
            if (s != null && end.jobResult() == JobSucceeded$.MODULE$) {
                if (loss != null) {
                    runningLoss(s[0], loss);
                }
                step(s[0], s[1], s[2]);
            }
        }
    }

    /** Step {@code step} of epoch {@code e} (from 1) has started: the first one seen starts the epoch's clock. */
    synchronized void started(int e, int step) {
        if (e != epoch && e > finished) {
            epoch = e;
            epochStart = System.nanoTime();
            stepsBefore = step - 1;
            stepsDone = step - 1;
            lastQuarter = 0;
            lastDraw = 0;
            runningLoss = Double.NaN;
        }
    }

    /** The mean loss of epoch {@code e}'s steps so far, shown instead of the previous epoch's. */
    synchronized void runningLoss(int e, double loss) {
        if (e == epoch && e > finished) {
            runningLoss = loss;
        }
    }

    /** Step {@code step} of {@code steps} of epoch {@code e} (from 1) is done. */
    synchronized void step(int e, int step, int steps) {
        if (e <= finished) {
            return; // Spark's listener bus is asynchronous: a late event of an epoch already summarised
        }
        long now = System.nanoTime();
        started(e, step);
        this.stepsDone = step;
        this.steps = steps;
        if (mode == Mode.BAR && (now - lastDraw >= REDRAW_NANOS || step == steps)) {
            lastDraw = now;
            draw(now, false);
        } else if (mode == Mode.LINES) {
            int quarter = (int) (4L * step / steps);
            if (quarter > lastQuarter && quarter < 4) {
                lastQuarter = quarter;
                out.println(line(now));
                out.flush();
            }
        }
    }

    private void draw(long now, boolean last) {
        String l = line(now);
        out.print('\r' + l + (l.length() < drawn ? " ".repeat(drawn - l.length()) : ""));
        drawn = l.length();
        if (last) {
            out.println();
            drawn = 0;
        }
        out.flush();
    }

    private String line(long now) {
        double frac = steps == 0 ? 0 : (double) stepsDone / steps;
        long rows = Math.round(frac * rowsPerEpoch);
        double secs = (now - epochStart) / 1e9;
        double fracHere = steps == 0 ? 0 : (double) (stepsDone - stepsBefore) / steps; // since this process began it
        double rate = secs > 0 && fracHere > 0 ? fracHere * rowsPerEpoch / secs : 0;
        double left = secs > 0 && fracHere > 0 ? secs * (1 - frac) / fracHere : Double.NaN;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "epoch %d/%d ", epoch, totalEpochs));
        if (mode == Mode.BAR) {
            int filled = (int) Math.round(frac * BAR_WIDTH);
            b.append('[').append("#".repeat(filled)).append(".".repeat(BAR_WIDTH - filled)).append("] ");
        } else {
            b.append(String.format(Locale.ROOT, "%3.0f%% ", 100 * frac));
        }
        b.append(String.format(Locale.ROOT, "%s/%s rows  %s rows/s  %s left", count(rows), count(rowsPerEpoch),
                count(Math.round(rate)), Double.isNaN(left) ? "?" : clock(left)));
        if (!Double.isNaN(runningLoss)) {
            b.append(String.format(Locale.ROOT, "  loss %.4f", runningLoss));
        } else if (!Double.isNaN(previousLoss)) {
            b.append(String.format(Locale.ROOT, "  prev loss %.4f", previousLoss));
        }
        return b.toString();
    }

    /**
     * The epoch is over: prints its summary line (replacing the bar) and remembers its loss.
     *
     * @param lr the learning rate it used
     */
    public synchronized void epochDone(EpochStats s, double lr) {
        previousLoss = s.trainLoss();
        rowsPerEpoch = s.rows();
        String summary = describe(s, totalEpochs, lr);
        if (mode == Mode.BAR) {
            out.print('\r' + summary + (summary.length() < drawn ? " ".repeat(drawn - summary.length()) : "") + "\n");
            drawn = 0;
        } else if (mode == Mode.LINES) {
            out.println(summary);
        }
        out.flush();
        finished = Math.max(finished, s.epoch());
        epoch = 0;
    }

    /** One epoch as a line: loss, validation loss and metric, rows/s, time, learning rate. */
    public static String describe(EpochStats s, int totalEpochs, double lr) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "epoch %d/%d  loss %.4f", s.epoch(), totalEpochs,
                s.trainLoss()));
        if (!Double.isNaN(s.validationLoss())) {
            b.append(String.format(Locale.ROOT, "  val_loss %.4f  val_%s %.4f", s.validationLoss(), s.metricName(),
                    s.validationMetric()));
        }
        b.append(String.format(Locale.ROOT, "  %s rows/s  %s  lr %.3g", count(Math.round(s.rowsPerSecond())),
                clock(s.seconds()), lr));
        return b.toString();
    }

    static String count(long n) {
        if (n >= 10_000_000) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        if (n >= 10_000) {
            return String.format(Locale.ROOT, "%.1fk", n / 1e3);
        }
        return Long.toString(n);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
