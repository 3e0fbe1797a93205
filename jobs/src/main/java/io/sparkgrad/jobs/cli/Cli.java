package io.sparkgrad.jobs.cli;

import io.sparkgrad.io.PrintableText;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The command line of one job: its options (each with a placeholder, a default and one line of
 * help, in sections), {@code --help} text generated from them, and a parser that accepts
 * {@code --name value} and {@code --name=value} and rejects anything else with a
 * {@link UsageException} that names the argument.
 *
 * <pre>{@code
 * Cli cli = new Cli("train", "Trains a network on a DataFrame.")
 *         .section("Input")
 *         .option("input", "PATH", null, "training data (required)")
 *         .option("epochs", "N", "10", "passes over the training data")
 *         .flag("resume", "continue from the newest checkpoint");
 * Cli.Args a = cli.parse(args);
 * int epochs = a.intValue("epochs", 1, 100_000);
 * }</pre>
 */
public final class Cli {
    /** One option. A flag takes no value; a required option has no default. */
    private record Option(String name, String metavar, String defaultValue, String help, boolean flag,
            boolean required, String section) {
    }

    private final String command;
    private final String summary;
    private final Map<String, Option> options = new LinkedHashMap<>();
    private final List<String> epilog = new ArrayList<>();
    private String section = "Options";

    /**
     * @param command the job's name, as typed after the jar ({@code train})
     * @param summary what it does, shown at the top of the help
     */
    public Cli(String command, String summary) {
        this.command = command;
        this.summary = summary;
        flag("help", "print this help and exit");
    }

    /** Options added after this call are listed under {@code title} in the help. */
    public Cli section(String title) {
        this.section = title;
        return this;
    }

    /** An option with a value; {@code defaultValue} null makes it optional without a default. */
    public Cli option(String name, String metavar, String defaultValue, String help) {
        return add(new Option(name, metavar, defaultValue, help, false, false, section));
    }

    /** An option that must be given. */
    public Cli required(String name, String metavar, String help) {
        return add(new Option(name, metavar, null, help, false, true, section));
    }

    /** An option without a value: present or not. */
    public Cli flag(String name, String help) {
        return add(new Option(name, null, null, help, true, false, section));
    }

    /** A paragraph printed after the options (examples, notes). */
    public Cli epilog(String text) {
        epilog.add(text);
        return this;
    }

    private Cli add(Option o) {
        if (options.putIfAbsent(o.name(), o) != null) {
            throw new IllegalStateException("option --" + o.name() + " declared twice");
        }
        return this;
    }

    public String command() {
        return command;
    }

    /** The names of every option, in declaration order. */
    public List<String> optionNames() {
        return List.copyOf(options.keySet());
    }

    /** Whether {@code name} is a declared flag (an option without a value). */
    public boolean isFlag(String name) {
        Option o = options.get(name);
        return o != null && o.flag();
    }

    /** The help text: usage line, summary, every option with its default, the epilog. */
    public String help() {
        StringBuilder b = new StringBuilder();
        b.append("Usage: spark-submit --class io.sparkgrad.jobs.Main sparkgrad-jobs.jar ").append(command)
                .append(" [OPTIONS]\n\n").append(summary).append('\n');
        String current = null;
        int width = 0;
        for (Option o : options.values()) {
            width = Math.max(width, left(o).length());
        }
        for (Option o : options.values()) {
            if (!o.section().equals(current)) {
                current = o.section();
                b.append('\n').append(current).append(":\n");
            }
            String l = left(o);
            b.append("  ").append(l).append(" ".repeat(width - l.length() + 2)).append(o.help());
            if (o.required()) {
                b.append(" (required)");
            } else if (o.defaultValue() != null) {
                b.append(" (default: ").append(o.defaultValue().isEmpty() ? "none" : o.defaultValue()).append(')');
            }
            b.append('\n');
        }
        for (String e : epilog) {
            b.append('\n').append(e).append('\n');
        }
        return b.toString();
    }

    private static String left(Option o) {
        return "--" + o.name() + (o.flag() ? "" : " " + o.metavar());
    }

    /**
     * Parses {@code args}.
     *
     * @throws UsageException for an unknown option, a missing value or a missing required option
     */
    public Args parse(String[] args) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new UsageException("unexpected argument '" + shown(arg) + "': options start with --; see " + command
                        + " --help");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Option o = options.get(name);
            if (o == null) {
                throw new UsageException("unknown option --" + shown(name) + suggestion(name) + "; see " + command
                        + " --help");
            }
            if (o.flag()) {
                if (value != null) {
                    throw new UsageException("--" + name + " takes no value, got '" + shown(value) + "'");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= args.length || (args[i + 1].startsWith("--") && options.containsKey(optionName(args[i + 1])))) {
                    throw new UsageException("--" + name + ": expected a value (" + o.metavar() + ")");
                }
                value = args[++i];
            }
            if (values.put(name, value) != null) {
                throw new UsageException("--" + name + " is given twice");
            }
        }
        if (!values.containsKey("help")) {
            for (Option o : options.values()) {
                if (o.required() && !values.containsKey(o.name())) {
                    throw new UsageException("--" + o.name() + " is required: " + o.help());
                }
            }
        }
        return new Args(values);
    }

    /** Longest piece of an argument that an error message quotes. */
    private static final int MAX_QUOTED = 60;

    /** An argument as an error quotes it, escaped and cut: the job prints its error as one line. */
    private static String shown(String arg) {
        return PrintableText.of(arg, MAX_QUOTED);
    }

    private static String optionName(String arg) {
        String n = arg.substring(2);
        int eq = n.indexOf('=');
        return eq >= 0 ? n.substring(0, eq) : n;
    }

    /** ", did you mean --x?" for the closest declared name, or "" when none is close. */
    private String suggestion(String name) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : options.keySet()) {
            int d = distance(name, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null && bestDistance <= Math.max(2, name.length() / 3) ? " (did you mean --" + best + "?)" : "";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** Parsed arguments: typed access with defaults, each error naming the option. */
    public final class Args {
        private final Map<String, String> values;

        private Args(Map<String, String> values) {
            this.values = Collections.unmodifiableMap(values);
        }

        private Option declared(String name) {
            Option o = options.get(name);
            if (o == null) {
                throw new IllegalStateException("option --" + name + " is not declared by " + command);
            }
            return o;
        }

        /** Whether the option was given on the command line (its default does not count). */
        public boolean given(String name) {
            declared(name);
            return values.containsKey(name);
        }

        /** A flag's presence. */
        public boolean flag(String name) {
            if (!declared(name).flag()) {
                throw new IllegalStateException("--" + name + " is not a flag");
            }
            return values.containsKey(name);
        }

        /** The value given, else the default; null when neither (or when the default is empty). */
        public String string(String name) {
            Option o = declared(name);
            String v = values.containsKey(name) ? values.get(name) : o.defaultValue();
            return v == null || v.isEmpty() ? null : v;
        }

        /** A value that must be present (given or defaulted) and non-empty. */
        public String require(String name) {
            String v = string(name);
            if (v == null) {
                throw new UsageException("--" + name + " is required: " + declared(name).help());
            }
            return v;
        }

        public int intValue(String name, int min, int max) {
            long v = longValue(name, min, max);
            return (int) v;
        }

        public long longValue(String name, long min, long max) {
            String s = require(name);
            long v;
            try {
                v = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + ": expected an integer" + range(min, max) + ", got '" + shown(s)
                        + "'");
            }
            if (v < min || v > max) {
                throw new UsageException("--" + name + ": expected an integer" + range(min, max) + ", got " + v);
            }
            return v;
        }

        /** A finite number in {@code [min, max]}, or in {@code [min, max)} when {@code maxExclusive}. */
        public double doubleValue(String name, double min, double max, boolean maxExclusive) {
            String s = require(name);
            double v;
            try {
                v = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                v = Double.NaN;
            }
            String want = "a number in [" + fmt(min) + ", " + fmt(max) + (maxExclusive ? ")" : "]");
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw new UsageException("--" + name + ": expected " + want + ", got '" + shown(s) + "'");
            }
            if (v < min || v > max || (maxExclusive && v == max)) {
                throw new UsageException("--" + name + ": expected " + want + ", got " + shown(s));
            }
            return v;
        }

        /** A number that must be strictly positive and finite. */
        public double positive(String name) {
            double v = doubleValue(name, 0, Double.MAX_VALUE, false);
            if (v == 0) {
                throw new UsageException("--" + name + ": expected a number > 0, got " + shown(require(name)));
            }
            return v;
        }

        /** One of {@code choices} (case-insensitive), returned in lower case. */
        public String choice(String name, String... choices) {
            String s = require(name).toLowerCase(Locale.ROOT);
            if (!Arrays.asList(choices).contains(s)) {
                throw new UsageException("--" + name + ": expected one of " + String.join(", ", choices) + ", got '"
                        + shown(require(name)) + "'");
            }
            return s;
        }

        /** A comma-separated list of non-empty items, or an empty list when absent. */
        public List<String> list(String name) {
            String s = string(name);
            if (s == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String part : s.split(",", -1)) {
                String t = part.trim();
                if (t.isEmpty()) {
                    throw new UsageException("--" + name + ": expected a comma-separated list without empty items, got '"
                            + shown(s) + "'");
                }
                out.add(t);
            }
            return out;
        }

        /** A comma-separated list of integers in {@code [min, max]}; empty when the value is "none" or absent. */
        public int[] intList(String name, int min, int max) {
            String s = string(name);
            if (s == null || s.equalsIgnoreCase("none")) {
                return new int[0];
            }
            List<String> items = list(name);
            int[] out = new int[items.size()];
            for (int i = 0; i < out.length; i++) {
                try {
                    out[i] = Integer.parseInt(items.get(i));
                } catch (NumberFormatException e) {
                    throw new UsageException("--" + name + ": expected comma-separated integers" + range(min, max)
                            + ", got '" + shown(s) + "'");
                }
                if (out[i] < min || out[i] > max) {
                    throw new UsageException("--" + name + ": every entry must be an integer" + range(min, max)
                            + ", got " + out[i]);
                }
            }
            return out;
        }

        private String range(long min, long max) {
            if (max == Long.MAX_VALUE || max == Integer.MAX_VALUE) {
                return " >= " + min;
            }
            return " in [" + min + ", " + max + "]";
        }

        private String fmt(double d) {
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
        }
    }
}
