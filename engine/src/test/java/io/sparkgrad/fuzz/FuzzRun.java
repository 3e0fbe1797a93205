package io.sparkgrad.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs a reader over many hostile inputs of one family and holds it to the contract of issue 8:
 * every input ends either in a result that the family's independent check accepts, or in the one
 * documented exception type with a clear message; nothing else is thrown, and reading allocates no
 * more than a small multiple of the bytes actually present (a header that claims gigabytes must not
 * get them).
 *
 * <p>Outcomes are tallied by class (accepted, or the rejection's message with numbers and quoted
 * names blanked out) and printed at the end, which is where the figures in RELIABILITY.md come
 * from. The first broken input is written to {@code target/fuzz-failures/} and the test fails
 * naming the seed, the case and the mutation, so it can be replayed and turned into a plain test.
 */
final class FuzzRun {
    /** Fixed allowance per read: stream buffers, the 64 KiB chunk and its decoded copy, exceptions. */
    static final long FIXED_ALLOWANCE = 4L << 20;
    /**
     * Per byte present. Data may widen 8x (ubyte to float64) and a growing array may double: 16.
     * A safetensors header made only of empty tensors costs the most, about 27 bytes per header byte
     * (each 58-byte entry becomes a parsed entry, a tensor and map entries, most of it garbage at
     * once): linear in what the file really holds, unlike a size claimed and allocated up front.
     */
    static final long ALLOWANCE_PER_BYTE = 32;
    /** The longest message a rejection may have: a person reads it on one terminal line or two. */
    static final int MAX_MESSAGE = 1_000;

    /** The reader under test; returns what it read. */
    @FunctionalInterface
    interface Read<T> {
        T read() throws Exception;
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final String family;
    private final long seed;
    private final Class<? extends Exception> documented;
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private int inputs;
    private long slowestNanos;
    private String slowest = "";
    private long mostAllocated;
    private long mostAllocatedInput;

    /**
     * @param family     names the input family in reports and failure files
     * @param seed       the seed the mutants came from, printed with any failure
     * @param documented the exception type the reader documents for bad input
     */
    FuzzRun(String family, long seed, Class<? extends Exception> documented) {
        this.family = family;
        this.seed = seed;
        this.documented = documented;
        THREADS.setThreadAllocatedMemoryEnabled(true);
    }

    /** The seed of a family: {@code -Dsparkgrad.fuzz.seed=N} replays or varies it; each family offsets it. */
    static long seed(long familyOffset) {
        return Long.getLong("sparkgrad.fuzz.seed", 20240601L) + familyOffset;
    }

    /** How many mutants of each kind to make: {@code -Dsparkgrad.fuzz.scale=10} runs ten times as many. */
    static int scaled(int count) {
        return (int) Math.max(1, count * Double.parseDouble(System.getProperty("sparkgrad.fuzz.scale", "1")));
    }

    /**
     * Reads one input and checks the outcome.
     *
     * @param how       how the input was made (printed on failure)
     * @param input     the input's bytes (written out on failure)
     * @param present   how many bytes the reader can actually get from it (decompressed size for gzip)
     * @param read      the read
     * @param accepted  checks a result against the family's independent decoding (throws AssertionError)
     * @param rejected  checks a rejection's details beyond the common rules (source, offset)
     * @return the result, or null when the input was rejected
     */
    <T> T attempt(String how, byte[] input, long present, Read<T> read, Consumer<T> accepted,
            Consumer<Exception> rejected) {
        inputs++;
        long allocatedBefore = THREADS.getCurrentThreadAllocatedBytes();
        long start = System.nanoTime();
        T result = null;
        Throwable thrown = null;
        try {
            result = read.read();
        } catch (Throwable t) {
            thrown = t;
        }
        long nanos = System.nanoTime() - start;
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - allocatedBefore;
        if (nanos > slowestNanos) {
            slowestNanos = nanos;
            slowest = how;
        }
        if (allocated > mostAllocated) {
            mostAllocated = allocated;
            mostAllocatedInput = present;
        }
        try {
            long limit = FIXED_ALLOWANCE + ALLOWANCE_PER_BYTE * present;
            if (allocated > limit) {
                throw new AssertionError("reading allocated " + allocated + " bytes, more than " + limit
                        + " for an input of " + present + " bytes");
            }
            if (thrown == null) {
                accepted.accept(result);
                tally("accepted");
                return result;
            }
            if (!documented.isInstance(thrown)) {
                throw new AssertionError("threw " + thrown.getClass().getName() + " instead of "
                        + documented.getSimpleName(), thrown);
            }
            String message = thrown.getMessage();
            if (message == null || message.isBlank()) {
                throw new AssertionError("a rejection without a message", thrown);
            }
            if (message.length() > MAX_MESSAGE || message.contains("\n") || message.contains("\r")) {
                throw new AssertionError("the message is not one line of at most " + MAX_MESSAGE + " characters: "
                        + message.length() + " characters: " + abbreviate(message), thrown);
            }
            rejected.accept((Exception) thrown);
            tally("rejected: " + messageClass(message));
            return null;
        } catch (AssertionError | RuntimeException e) {
            // a check that throws (say, reading the values of a malformed tensor) also fails the case
            Path saved = save(input);
            String cause = thrown == null ? "" : "\n" + stackTrace(thrown);
            fail(family + " fuzz case " + inputs + " (seed " + seed + ", " + how + ", input saved to " + saved
                    + "): " + e + cause, e);
            return null;
        }
    }

    private void tally(String outcome) {
        outcomes.merge(outcome, 1, Integer::sum);
    }

    /** The message with numbers and quoted text blanked, so messages of the same check count together. */
    static String messageClass(String message) {
        String problem = message;
        int offset = problem.indexOf("offset ");
        if (offset >= 0 && problem.indexOf(": ", offset) >= 0) {
            problem = problem.substring(problem.indexOf(": ", offset) + 2);
        }
        problem = problem.replaceAll("'[^']*'", "'…'").replaceAll("\"[^\"]*\"", "\"…\"")
                .replaceAll("(?<![A-Za-z])-?\\d+", "N").replaceAll("\\[[N, ]*\\]", "[…]");
        // the first clause says which check refused the input; what follows is detail
        for (String cut : new String[] {": ", " ("}) {
            int detail = problem.indexOf(cut, 12);
            if (detail > 0) {
                problem = problem.substring(0, detail);
            }
        }
        return problem.length() > 90 ? problem.substring(0, 90) + "…" : problem;
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private Path save(byte[] input) {
        try {
            Path dir = Path.of("target", "fuzz-failures");
            Files.createDirectories(dir);
            Path file = dir.resolve(family + "-seed" + seed + "-case" + inputs + ".bin");
            Files.write(file, input);
            return file.toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }

    int inputs() {
        return inputs;
    }

    /** How often {@code outcome} ("accepted" or "rejected: …") occurred. */
    int count(String outcome) {
        return outcomes.getOrDefault(outcome, 0);
    }

    /** The number of inputs rejected, whatever the message. */
    int rejected() {
        return inputs - count("accepted");
    }

    /** The tally, one outcome class a line, for the test log and RELIABILITY.md. */
    String summary() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("FUZZ %s: %d inputs, seed %d, %d accepted, %d rejected (%d classes); slowest %.1f ms"
                        + " (%s); most allocated by one read %d bytes, for a %d-byte input%n", family, inputs, seed,
                count("accepted"), rejected(), outcomes.size() - (outcomes.containsKey("accepted") ? 1 : 0),
                slowestNanos / 1e6, abbreviate(slowest), mostAllocated, mostAllocatedInput));
        outcomes.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue())
                .forEach(e -> b.append(String.format("  %6d  %s%n", e.getValue(), e.getKey())));
        return b.toString();
    }
}
