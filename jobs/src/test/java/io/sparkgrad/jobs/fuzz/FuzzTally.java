package io.sparkgrad.jobs.fuzz;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Holds one input family of the jobs to the contract of issue 8: each input gives a result that
 * passes the family's checks, or the one documented exception with a message of one line that a
 * person can read (at most {@value #MAX_MESSAGE} characters); anything else fails the test naming
 * the seed and how the input was made. Outcomes are tallied by the check that refused them.
 */
public final class FuzzTally {
    static final int MAX_MESSAGE = 1_000;

    private final String family;
    private final long seed;
    private final Class<? extends RuntimeException> documented;
    private final Map<String, Integer> outcomes = new TreeMap<>();
    private int inputs;

    public FuzzTally(String family, long seed, Class<? extends RuntimeException> documented) {
        this.family = family;
        this.seed = seed;
        this.documented = documented;
    }

    /** The seed of a family: {@code -Dsparkgrad.fuzz.seed=N} replays or varies it. */
    public static long seed(long familyOffset) {
        return Long.getLong("sparkgrad.fuzz.seed", 20240601L) + familyOffset;
    }

    /** {@code -Dsparkgrad.fuzz.scale=10} runs ten times as many mutants. */
    public static int scaled(int count) {
        return (int) Math.max(1, count * Double.parseDouble(System.getProperty("sparkgrad.fuzz.scale", "1")));
    }

    /** Runs one input; returns its result, or null when it was refused. */
    public <T> T attempt(String how, Supplier<T> run, Consumer<T> accepted, Consumer<RuntimeException> rejected) {
        inputs++;
        T result;
        try {
            result = run.get();
        } catch (RuntimeException e) {
            if (!documented.isInstance(e)) {
                throw failure(how, "threw " + e + " instead of " + documented.getSimpleName(), e);
            }
            String m = e.getMessage();
            if (m == null || m.isBlank() || m.length() > MAX_MESSAGE || m.contains("\n") || m.contains("\r")) {
                throw failure(how, "the message is not one readable line: " + (m == null ? null
                        : m.length() + " characters: " + TextMutator.escape(m.substring(0, Math.min(m.length(), 300)))), e);
            }
            try {
                rejected.accept(e);
            } catch (AssertionError a) {
                throw failure(how, a.getMessage(), e);
            }
            outcomes.merge("rejected: " + messageClass(m), 1, Integer::sum);
            return null;
        } catch (Error e) {
            throw failure(how, "threw " + e, e);
        }
        try {
            accepted.accept(result);
        } catch (AssertionError | RuntimeException e) {
            throw failure(how, "accepted, but: " + e, e);
        }
        outcomes.merge("accepted", 1, Integer::sum);
        return result;
    }

    private AssertionError failure(String how, String problem, Throwable cause) {
        try {
            fail(family + " fuzz case " + inputs + " (seed " + seed + ", " + TextMutator.escape(how) + "): " + problem, cause);
        } catch (AssertionError e) {
            return e;
        }
        throw new IllegalStateException("fail() returned");
    }

    /** The message with the numbers and quoted text blanked and the detail after the first clause dropped. */
    private static String messageClass(String message) {
        String m = message.replaceAll("\"[^\"]*\"", "\"…\"").replaceAll("'[^']*'", "'…'")
                .replaceAll("(?<![A-Za-z])-?\\d+(\\.\\d+)?", "N").replaceAll("\\[[N, ]*\\]", "[…]");
        int detail = m.indexOf(": ", m.indexOf(": ") + 2);
        m = detail > 0 ? m.substring(0, detail) : m;
        return m.length() > 90 ? m.substring(0, 90) + "…" : m;
    }

    public int inputs() {
        return inputs;
    }

    public int count(String outcome) {
        return outcomes.getOrDefault(outcome, 0);
    }

    public String summary() {
        StringBuilder b = new StringBuilder(String.format("FUZZ %s: %d inputs, seed %d, %d accepted, %d rejected%n",
                family, inputs, seed, count("accepted"), inputs - count("accepted")));
        outcomes.entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue())
                .forEach(e -> b.append(String.format("  %6d  %s%n", e.getValue(), e.getKey())));
        return b.toString();
    }
}
