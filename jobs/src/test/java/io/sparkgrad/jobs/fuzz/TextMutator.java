package io.sparkgrad.jobs.fuzz;

import java.util.SplittableRandom;

/**
 * Seeded mutations of text (a JSON spec, one command-line argument): the same seed gives the same
 * mutants everywhere, so a failure is replayed by rerunning the test with its seed. Each mutant
 * says how it was made.
 */
final class TextMutator {
    /** Tokens that mean something to JSON or to a shell-split command line, and some that mean trouble. */
    private static final String[] TOKENS = {
        "{", "}", "[", "]", "\"", ",", ":", "-", "0", "-1", "2147483648", "9223372036854775808", "1e400", "NaN",
        "null", "true", "\\", "\\u0000", "\n", "\r", "\t", "\u0000", "\u001b[2J", "\u2028", "\uFEFF", "é", "=", "--",
        " ",
    };

    /** A mutated text and how it was made. */
    record Mutant(String how, String text) {
    }

    private final SplittableRandom random;

    TextMutator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    String token() {
        return TOKENS[random.nextInt(TOKENS.length)];
    }

    /** One to three stacked edits: delete, insert a token or random characters, duplicate, truncate. */
    Mutant mutate(String base) {
        String s = base;
        StringBuilder how = new StringBuilder();
        for (int r = 1 + random.nextInt(3); r > 0; r--) {
            int at = s.isEmpty() ? 0 : random.nextInt(s.length() + 1);
            if (how.length() > 0) {
                how.append("; ");
            }
            switch (s.isEmpty() ? 1 : random.nextInt(5)) {
                case 0: {
                    int end = Math.min(s.length(), at + 1 + random.nextInt(16));
                    how.append("delete [").append(at).append(", ").append(end).append(')');
                    s = s.substring(0, at) + s.substring(end);
                    break;
                }
                case 1: {
                    String t = token();
                    how.append("insert ").append(escape(t)).append(" at ").append(at);
                    s = s.substring(0, at) + t + s.substring(at);
                    break;
                }
                case 2: {
                    StringBuilder junk = new StringBuilder();
                    for (int i = 1 + random.nextInt(8); i > 0; i--) {
                        junk.append((char) random.nextInt(random.nextBoolean() ? 128 : 0x10000));
                    }
                    how.append("insert ").append(junk.length()).append(" random characters at ").append(at);
                    s = s.substring(0, at) + junk + s.substring(at);
                    break;
                }
                case 3: {
                    int from = random.nextInt(s.length());
                    int end = Math.min(s.length(), from + 1 + random.nextInt(64));
                    how.append("copy [").append(from).append(", ").append(end).append(") to ").append(at);
                    s = s.substring(0, at) + s.substring(from, end) + s.substring(at);
                    break;
                }
                default:
                    how.append("truncate to ").append(at);
                    s = s.substring(0, at);
            }
        }
        return new Mutant(how.toString(), s);
    }

    /** Control characters written out, so a failure report stays readable. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder("'");
        for (char c : s.toCharArray()) {
            b.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        }
        return b.append('\'').toString();
    }
}
