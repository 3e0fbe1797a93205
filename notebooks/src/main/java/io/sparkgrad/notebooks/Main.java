package io.sparkgrad.notebooks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line behind {@code notebooks/notebook.sh}:
 *
 * <pre>
 * run   [--master URL] [--conf KEY=VALUE]... NOTEBOOK.scala...   runs the notebooks, one after the other
 * ipynb [-o DIR] NOTEBOOK.scala...                               writes DIR/NAME.ipynb for each
 * </pre>
 *
 * {@code run} compiles the cells against this JVM's classpath, which must hold Spark and Sparkgrad;
 * the master defaults to {@code local[2]}. Exit code 0 when everything ran, 1 when a cell failed
 * (its number, line and error are printed), 2 for bad arguments or a file that is not a notebook.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** What {@link #main} does, returning the exit code instead of exiting. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            return usage(err, "no command given");
        }
        List<String> rest = List.of(args).subList(1, args.length);
        try {
            switch (args[0]) {
                case "run":
                    return runNotebooks(rest, out, err);
                case "ipynb":
                    return writeIpynb(rest, out, err);
                default:
                    return usage(err, "unknown command " + args[0]);
            }
        } catch (NotebookFormatException | IOException e) {
            err.println("notebook: " + e.getMessage());
            return 2;
        }
    }

    private static int runNotebooks(List<String> args, PrintStream out, PrintStream err) throws IOException {
        NotebookRunner.Builder runner = NotebookRunner.builder().echo(out).conf("spark.master", "local[2]");
        Parsed p = Parsed.of(args, "--master", "--conf");
        if (p.problem != null) {
            return usage(err, p.problem);
        }
        for (String[] option : p.options) {
            if (option[0].equals("--master")) {
                runner.conf("spark.master", option[1]);
            } else {
                int eq = option[1].indexOf('=');
                if (eq <= 0) {
                    return usage(err, "--conf takes KEY=VALUE, got " + option[1]);
                }
                runner.conf(option[1].substring(0, eq), option[1].substring(eq + 1));
            }
        }
        List<Notebook> notebooks = new ArrayList<>();
        for (Path f : p.files) {
            notebooks.add(Notebook.read(f));   // all parsed before any runs
        }
        NotebookRunner r = runner.build();
        for (Notebook nb : notebooks) {
            try {
                RunReport report = r.run(nb);
                out.printf(java.util.Locale.ROOT, "notebook %s: %d code cells ran in %.1f s%n", nb.name(),
                        report.codeCellsRun(), report.seconds());
            } catch (NotebookCellException e) {
                err.println(e.getMessage());
                return 1;
            }
        }
        return 0;
    }

    private static int writeIpynb(List<String> args, PrintStream out, PrintStream err) throws IOException {
        Parsed p = Parsed.of(args, "-o");
        if (p.problem != null) {
            return usage(err, p.problem);
        }
        Path outDir = Path.of(p.options.isEmpty() ? "notebooks/target/ipynb" : p.options.get(p.options.size() - 1)[1]);
        Files.createDirectories(outDir);
        for (Path f : p.files) {
            Notebook nb = Notebook.read(f);
            Path target = outDir.resolve(nb.name() + ".ipynb");
            Files.writeString(target, Ipynb.of(nb), StandardCharsets.UTF_8);
            out.println(f + " -> " + target + " (" + nb.cells().size() + " cells)");
        }
        return 0;
    }

    /** Options that take a value, in order, and the notebook files; or what is wrong with the arguments. */
    private record Parsed(List<String[]> options, List<Path> files, String problem) {
        static Parsed of(List<String> args, String... valued) {
            List<String[]> options = new ArrayList<>();
            List<Path> files = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (List.of(valued).contains(a)) {
                    if (i + 1 == args.size()) {
                        return new Parsed(options, files, a + " needs a value");
                    }
                    options.add(new String[] {a, args.get(++i)});
                } else if (a.startsWith("-")) {
                    return new Parsed(options, files, "unknown option " + a);
                } else {
                    files.add(Path.of(a));
                }
            }
            return new Parsed(options, files, files.isEmpty() ? "no notebook given" : null);
        }
    }

    private static int usage(PrintStream err, String problem) {
        err.println("notebook: " + problem);
        err.println("usage: run [--master URL] [--conf KEY=VALUE]... NOTEBOOK.scala...");
        err.println("       ipynb [-o DIR] NOTEBOOK.scala...");
        return 2;
    }
}
