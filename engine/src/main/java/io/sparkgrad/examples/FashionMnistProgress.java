package io.sparkgrad.examples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The progress of one training epoch, for {@link FashionMnist}: on a terminal a single line
 * rewritten in place with {@code \r} (at most ten times a second), elsewhere (a log file, a pipe,
 * CI) a plain line at each quarter of the epoch, so logs stay short and readable.
 */
final class FashionMnistProgress {
    /** How progress is shown. */
    enum Mode {
        /** One line rewritten in place with carriage returns. */
        TTY,
        /** A plain line at 25%, 50% and 75% of each epoch. */
        LINES,
        /** Nothing between the per-epoch lines. */
        NONE;

        /** {@code auto} picks {@link #TTY} when the JVM has a console (stdin and stdout are terminals), else {@link #LINES}. */
        static Mode parse(String s) {
            switch (s.toLowerCase(Locale.ROOT)) {
                case "auto": return System.console() != null ? TTY : LINES;
                case "tty": return TTY;
                case "lines": return LINES;
                case "none": return NONE;
                default: throw new IllegalArgumentException("--progress must be auto, tty, lines or none, got " + s);
            }
        }
    }

    private static final long TTY_INTERVAL_NANOS = 100_000_000L;
    private static final int QUARTERS = 4;

    private final PrintStream out;
    private final Mode mode;
    private final String label;
    private final int batches;
    private final long start = System.nanoTime();
    private long lastDraw;
    private int lastQuarter;
    private int drawnWidth;

    /**
     * @param label   what is being run, e.g. {@code "epoch 3/10"}
     * @param batches the number of batches in the epoch
     */
    FashionMnistProgress(PrintStream out, Mode mode, String label, int batches) {
        this.out = out;
        this.mode = mode;
        this.label = label;
        this.batches = batches;
    }

    /**
     * Reports that {@code done} batches (of {@code samples} examples in all) have run, with the
     * running mean loss so far.
     */
    void update(int done, long samples, double meanLoss) {
        long now = System.nanoTime();
        switch (mode) {
            case TTY:
                if (done < batches && now - lastDraw < TTY_INTERVAL_NANOS) {
                    return;
                }
                lastDraw = now;
                String line = line(done, samples, meanLoss, now, true);
                out.print("\r" + pad(line));
                out.flush();
                break;
            case LINES:
                int quarter = (int) ((long) done * QUARTERS / Math.max(1, batches));
                if (quarter > lastQuarter && done < batches) {
                    lastQuarter = quarter;
                    out.println(line(done, samples, meanLoss, now, false));
                    out.flush();
                }
                break;
            default:
                break;
        }
    }

    /** Clears the in-place line, so the epoch's summary starts on a clean line. */
    void finish() {
        if (mode == Mode.TTY && drawnWidth > 0) {
            out.print("\r" + " ".repeat(drawnWidth) + "\r");
            out.flush();
            drawnWidth = 0;
        }
    }

    private String pad(String line) {
        int width = line.length();
        String padded = width < drawnWidth ? line + " ".repeat(drawnWidth - width) : line;
        drawnWidth = Math.max(drawnWidth, width);
        return padded;
    }

    private String line(int done, long samples, double meanLoss, long now, boolean bar) {
        double seconds = (now - start) / 1e9;
        double rate = seconds > 0 ? samples / seconds : 0;
        StringBuilder s = new StringBuilder(label).append("  ");
        if (bar) {
            int width = 24;
            int filled = (int) ((long) done * width / Math.max(1, batches));
            s.append('[').append("=".repeat(filled)).append(" ".repeat(width - filled)).append("] ");
        }
        s.append(String.format(Locale.ROOT, "%3d%%  batch %d/%d  loss %.4f  %.0f samples/s",
                (int) ((long) done * 100 / Math.max(1, batches)), done, batches, meanLoss, rate));
        if (done > 0 && done < batches) {
            s.append(String.format(Locale.ROOT, "  eta %.0f s", seconds / done * (batches - done)));
        }
        return s.toString();
    }
}
