package io.sparkgrad.jobs.fuzz;

import io.sparkgrad.jobs.JobClis;
import io.sparkgrad.jobs.cli.Cli;
import io.sparkgrad.jobs.cli.UsageException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded fuzzing of the jobs' command lines (issue 8, "Bad and hostile input"): mutants of valid
 * train, evaluate and predict argument lists, parsed with the jobs' own declarations, then every
 * option read in every typed way a job reads options. Each parse and each read must give a value
 * that agrees with the argument given, or throw {@link UsageException} with a one-line message
 * naming the option; nothing starts Spark.
 *
 * <p>Replay or widen: {@code -Dsparkgrad.fuzz.seed=N -Dsparkgrad.fuzz.scale=10}.
 */
class JobArgumentsFuzzTest {
    private static final Duration FAMILY_LIMIT = Duration.ofMinutes(3);
    private static final List<List<String>> BASES = List.of(
            List.of("--input", "/data/train.parquet", "--layers", "256,128", "--epochs", "5", "--batch", "256",
                    "--lr", "0.002", "--lr-schedule", "cosine", "--lr-min", "0.0001", "--validation", "0.1",
                    "--output", "/tmp/out", "--checkpoint-dir", "/tmp/ck", "--resume", "--seed", "7",
                    "--progress", "lines", "--format", "parquet", "--local-steps", "auto"),
            List.of("--model", "/tmp/m", "--input", "x.csv", "--csv-sep", "tab", "--csv-header", "false",
                    "--limit", "100", "--handle-invalid", "skip", "--output=metrics.json", "--overwrite"),
            List.of("--model", "/tmp/m", "--input", "x", "--output", "o", "--output-format", "arrow",
                    "--keep", "id,label", "--log-level", "info"));
    private static final String[] HOSTILE_VALUES = {
        "", " ", "-1", "0", "2147483648", "9223372036854775808", "-9223372036854775809", "1e309", "NaN", "-Infinity",
        "0x10", "1_000", "\u0663", "1,,2", ",", "none", "x\ny", "\u001b[2J", "--", "-", "=", "a".repeat(100_000),
        " 12 ", "1.0f", "4.9e-324",
    };

    @Test
    void mutatedArgumentListsParseOrNameTheArgument() {
        FuzzTally run = new FuzzTally("job-arguments", FuzzTally.seed(30), UsageException.class);
        TextMutator m = new TextMutator(FuzzTally.seed(30));
        List<Cli> clis = JobClis.all();
        int lists = FuzzTally.scaled(6000);
        int[] parsedLists = {0};
        assertTimeoutPreemptively(FAMILY_LIMIT, () -> {
            for (int i = 0; i < lists; i++) {
                int job = i % clis.size();
                Cli cli = clis.get(job);
                List<String> argv = new ArrayList<>(BASES.get(job));
                String how = mutate(m, argv, cli);
                String[] args = argv.toArray(new String[0]);
                Cli.Args parsed = run.attempt(cli.command() + ": " + how, () -> cli.parse(args),
                        a -> checkParsed(cli, a, args), e -> { });
                if (parsed != null) {
                    parsedLists[0]++;
                    for (String name : cli.optionNames()) {
                        readEveryWay(run, cli, parsed, name, how);
                    }
                }
            }
        });
        System.out.printf("FUZZ job-arguments: %d argument lists, %d parsed, each option of those read 9 ways%n",
                lists, parsedLists[0]);
        System.out.print(run.summary());
        // most mutants break the list itself (about 23% parse with this seed); those that parse feed the typed reads
        assertTrue(parsedLists[0] > lists / 10, parsedLists[0] + " of " + lists + " lists parsed: too few reach the reads");
    }

    /** One to three edits of the argument list. */
    private static String mutate(TextMutator m, List<String> argv, Cli cli) {
        StringBuilder how = new StringBuilder();
        for (int r = 1 + m.nextInt(3); r > 0; r--) {
            int at = m.nextInt(argv.size());
            switch (m.nextInt(8)) {
                case 0:
                case 1: {
                    String v = HOSTILE_VALUES[m.nextInt(HOSTILE_VALUES.length)];
                    int value = argv.get(at).startsWith("--") && at + 1 < argv.size() ? at + 1 : at;
                    how.append("arg ").append(value).append(" = ").append(TextMutator.escape(abbreviated(v)));
                    argv.set(value, v);
                    break;
                }
                case 2: {
                    TextMutator.Mutant t = m.mutate(argv.get(at));
                    how.append("arg ").append(at).append(": ").append(t.how());
                    argv.set(at, t.text());
                    break;
                }
                case 3:
                    how.append("drop arg ").append(at);
                    argv.remove(at);
                    break;
                case 4:
                    how.append("repeat arg ").append(at);
                    argv.add(at, argv.get(at));
                    break;
                case 5: {
                    int other = m.nextInt(argv.size());
                    how.append("swap args ").append(at).append(", ").append(other);
                    String a = argv.get(at);
                    argv.set(at, argv.get(other));
                    argv.set(other, a);
                    break;
                }
                case 6: {
                    List<String> names = cli.optionNames();
                    String name = names.get(m.nextInt(names.size()));
                    String[] forms = {"--" + name, "--" + name + "=", "--" + name + "=" + m.token(), "-" + name, name,
                        "--" + name.toUpperCase(), "--" + name + "s"};
                    String form = forms[m.nextInt(forms.length)];
                    how.append("insert ").append(TextMutator.escape(form)).append(" at ").append(at);
                    argv.add(at, form);
                    break;
                }
                default: {
                    if (at + 1 < argv.size() && argv.get(at).startsWith("--")) {
                        how.append("join args ").append(at).append(" with =");
                        argv.set(at, argv.get(at) + "=" + argv.remove(at + 1));
                    } else {
                        how.append("insert an empty arg at ").append(at);
                        argv.add(at, "");
                    }
                }
            }
            if (argv.isEmpty()) {
                break;
            }
            how.append("; ");
        }
        return how.toString();
    }

    private static String abbreviated(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "… (" + s.length() + " characters)" : s;
    }

    /** What was given is what the parse holds: every given option's value stands in the arguments. */
    private static void checkParsed(Cli cli, Cli.Args a, String[] args) {
        List<String> argv = Arrays.asList(args);
        for (String name : cli.optionNames()) {
            boolean mentioned = argv.stream().anyMatch(s -> s.equals("--" + name) || s.startsWith("--" + name + "="));
            assertEquals(mentioned, a.given(name), "--" + name + " given?");
            if (a.given(name) && !cli.isFlag(name)) {
                String v = a.string(name);
                assertTrue(v == null || argv.contains(v) || argv.contains("--" + name + "=" + v),
                        "--" + name + " holds a value that is not in the arguments");
            }
        }
    }

    /** Every typed read a job makes of an option: each gives a value consistent with the text, or a UsageException. */
    private static void readEveryWay(FuzzTally run, Cli cli, Cli.Args a, String name, String how) {
        String where = cli.command() + " --" + name + " (" + how + ")";
        if (cli.isFlag(name)) {
            read(run, where, () -> a.flag(name), v -> assertEquals(a.given(name), v));
            return;
        }
        String text = a.string(name);
        read(run, where, () -> a.require(name), v -> assertEquals(text, v));
        read(run, where, () -> a.intValue(name, 1, 1_000_000), v -> {
            assertTrue(v >= 1 && v <= 1_000_000);
            assertEquals(Long.parseLong(text.trim()), (long) v);
        });
        read(run, where, () -> a.longValue(name, Long.MIN_VALUE, Long.MAX_VALUE),
                v -> assertEquals(Long.parseLong(text.trim()), (long) v));
        read(run, where, () -> a.doubleValue(name, 0, 1, true), v -> assertTrue(v >= 0 && v < 1));
        read(run, where, () -> a.positive(name), v -> assertTrue(v > 0 && Double.isFinite(v)));
        read(run, where, () -> a.choice(name, "auto", "lines", "none"),
                v -> assertTrue(List.of("auto", "lines", "none").contains(v)));
        read(run, where, () -> a.list(name), v -> v.forEach(item -> {
            assertFalse(item.isEmpty());
            assertEquals(item.trim(), item);
        }));
        read(run, where, () -> a.intList(name, 1, 1 << 16), v -> {
            for (int x : v) {
                assertTrue(x >= 1 && x <= 1 << 16);
            }
        });
    }

    private static <T> void read(FuzzTally run, String where, Supplier<T> read, java.util.function.Consumer<T> check) {
        run.attempt(where, read, check, e -> assertTrue(e.getMessage().startsWith("--"), e.getMessage()));
    }
}
