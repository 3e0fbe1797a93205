package io.sparkgrad.notebooks;

import org.apache.spark.sql.SparkSession;
import scala.Console;
import scala.Function0;
import scala.Option;
import scala.Tuple3;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.internal.Trees;
import scala.reflect.internal.util.BatchSourceFile;
import scala.reflect.internal.util.Position;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;
import scala.tools.nsc.interpreter.shell.ReplReporterImpl;
import scala.util.Either;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Runs a {@link Notebook} the way a Databricks cluster would: every code cell, in order, through
 * an embedded Scala 2.13 REPL ({@code scala.tools.nsc.interpreter.IMain}, the compiler Spark's own
 * Scala version ships), statement by statement, with all cells sharing one session of definitions.
 * Markdown cells are skipped; any other magic ({@code %sh}, {@code %sql}…) fails the run, since
 * only Databricks can run it.
 *
 * <p>The REPL runs in class-based mode and writes the classes it compiles to a directory that
 * {@code spark.repl.class.outputDir} names, which is how {@code spark-shell} works: the driver
 * serves that directory, so executors, local or on a cluster, load classes defined in cells (a
 * custom {@code Module}, a lambda). The notebook builds its own session with
 * {@code SparkSession.builder().getOrCreate()}, as on Databricks; the runner hands it the master
 * and other settings as {@code spark.*} system properties for the length of the run, which a new
 * {@code SparkConf} reads.
 *
 * <pre>{@code
 * RunReport report = NotebookRunner.builder()
 *         .classpath(System.getProperty("java.class.path"))   // Spark, Sparkgrad and scala-compiler
 *         .conf("spark.master", "local[2]")
 *         .build()
 *         .run(Notebook.read(Path.of("notebooks/01-autograd-tutorial.scala")));
 * }</pre>
 *
 * A cell that does not compile or throws stops the run with a {@link NotebookCellException}
 * naming the cell and line. A Spark session the notebook created is stopped at the end; one that
 * existed before the run is left alone. One run at a time per JVM: the system properties and the
 * default Spark session are global.
 */
public final class NotebookRunner {
    private final String classpath;
    private final Map<String, String> conf;
    private final PrintStream echo;
    private final Path workDir;

    private NotebookRunner(Builder b) {
        this.classpath = b.classpath;
        this.conf = new LinkedHashMap<>(b.conf);
        this.echo = b.echo;
        this.workDir = b.workDir;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Runs every cell of {@code notebook}; throws {@link NotebookCellException} at the first failing one. */
    public RunReport run(Notebook notebook) {
        long t0 = System.nanoTime();
        Path classDir = createClassDir();
        Map<String, String> props = new LinkedHashMap<>(conf);
        props.put("spark.repl.class.outputDir", classDir.toString());
        props.putIfAbsent("spark.app.name", notebook.name());
        Map<String, String> previous = setProperties(props);
        Option<SparkSession> before = SparkSession.getDefaultSession();
        ClassLoader previousLoader = Thread.currentThread().getContextClassLoader();
        Session session = null;
        try {
            session = new Session(notebook.name(), classDir);
            List<RunReport.CellRun> runs = new ArrayList<>();
            for (Cell cell : notebook.cells()) {
                runs.add(session.run(cell));
            }
            return new RunReport(notebook.name(), runs, (System.nanoTime() - t0) / 1e9);
        } finally {
            try {
                stopSessionsCreatedSince(before);
            } finally {
                if (session != null) {
                    session.close();
                }
                Thread.currentThread().setContextClassLoader(previousLoader);
                restoreProperties(previous);
                deleteTree(classDir);
            }
        }
    }

    /** The REPL of one run, and where its output goes. */
    private final class Session {
        private final String notebook;
        private final SwitchableStream out = new SwitchableStream(echo);
        private final PrintStream printer = new PrintStream(out, true, StandardCharsets.UTF_8);
        private final IMain intp;

        Session(String notebook, Path classDir) {
            this.notebook = notebook;
            Settings settings = new Settings();
            List<String> args = List.of("-Yrepl-class-based", "-Yrepl-outdir", classDir.toString(), "-classpath", classpath);
            scala.Tuple2<Object, scala.collection.immutable.List<String>> parsed =
                    settings.processArguments(CollectionConverters.asScala(args).toList(), true);
            if (!(Boolean) parsed._1() || !parsed._2().isEmpty()) {
                throw new IllegalArgumentException("the Scala compiler rejected the settings " + args);
            }
            ReplReporterImpl reporter = new ReplReporterImpl(settings,
                    new PrintWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8), true));
            this.intp = new IMain(settings, reporter);
        }

        RunReport.CellRun run(Cell cell) {
            if (cell.kind() == Cell.Kind.MARKDOWN || cell.source().isBlank()) {
                return new RunReport.CellRun(cell.number(), cell.kind(), 0, 0, "");
            }
            if (cell.kind() == Cell.Kind.MAGIC) {
                throw new NotebookCellException(notebook, cell.number(), cell.firstLine() - 1, "%" + cell.magic(),
                        "%" + cell.magic() + " cells run only on Databricks; this runner runs Scala code cells"
                                + " (and skips %md)", "", null);
            }
            long t0 = System.nanoTime();
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            echo.println("--- " + notebook + ": cell " + cell.number() + " (line " + cell.firstLine() + ")"
                    + (cell.title().isEmpty() ? "" : " " + cell.title()));
            List<Statement> statements = split(cell, captured);
            for (Statement s : statements) {
                interpret(cell, s, captured);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            echo.printf(java.util.Locale.ROOT, "--- cell %d: %d statement%s in %.2f s%n", cell.number(),
                    statements.size(), statements.size() == 1 ? "" : "s", seconds);
            return new RunReport.CellRun(cell.number(), cell.kind(), statements.size(), seconds,
                    captured.toString(StandardCharsets.UTF_8));
        }

        /**
         * The cell's top-level statements, found by the REPL's own parser: each runs as one REPL
         * line, as if typed. Statements are cut at the start of the line where one begins, so
         * comments and blank lines go with the statement before them and statements sharing a line
         * stay together; a class and its companion object stay together (the REPL needs them in one
         * line); and a piece that does not parse on its own is joined to the next.
         */
        private List<Statement> split(Cell cell, ByteArrayOutputStream captured) {
            String code = cell.source();
            ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
            Either<Results.Result, Tuple3<scala.collection.immutable.List<Trees.Tree>, Position, BatchSourceFile>> parsed =
                    withOutput(diagnostics, true, () -> intp.parse(code));
            captured.writeBytes(diagnostics.toByteArray());
            if (parsed.isLeft()) {
                boolean incomplete = parsed.swap().toOption().get() == Results.Incomplete$.MODULE$;
                throw new NotebookCellException(notebook, cell.number(), cell.firstLine(), code,
                        incomplete ? "the cell ends inside an unfinished statement (a missing closing bracket or quote?)"
                                : "it does not parse", diagnostics.toString(StandardCharsets.UTF_8), null);
            }
            List<Integer> cuts = new ArrayList<>();
            int end = -1;
            String previousDefinition = null;
            for (Trees.Tree tree : CollectionConverters.asJava(parsed.toOption().get()._1())) {
                Position pos = tree.pos();
                if (!pos.isRange()) {
                    // Without range positions the boundaries are unknown: the cell runs as one line.
                    return List.of(new Statement(code, cell.firstLine()));
                }
                String definition = definedName(tree);
                int lineStart = code.lastIndexOf('\n', pos.start() - 1) + 1;
                if (end >= 0 && lineStart >= end && !(definition != null && definition.equals(previousDefinition))) {
                    cuts.add(lineStart);
                }
                end = Math.max(end, pos.end());
                previousDefinition = definition;
            }
            List<Statement> out = new ArrayList<>();
            int from = 0;
            for (int i = 0; i <= cuts.size(); i++) {
                int to = i < cuts.size() ? cuts.get(i) : code.length();
                if (i == cuts.size() || parsesAlone(code.substring(from, to))) {
                    out.add(statement(cell, code, from, to));
                    from = to;
                }
            }
            return out;
        }

        private boolean parsesAlone(String piece) {
            return withOutput(OutputStream.nullOutputStream(), false, () -> intp.parse(piece)).isRight();
        }

        private void interpret(Cell cell, Statement s, ByteArrayOutputStream captured) {
            ByteArrayOutputStream statementOutput = new ByteArrayOutputStream();
            Thread.currentThread().setContextClassLoader(intp.classLoader());
            Results.Result result = withOutput(statementOutput, true, () -> intp.interpret(s.code()));
            captured.writeBytes(statementOutput.toByteArray());
            if (result == Results.Success$.MODULE$) {
                return;
            }
            // The run stops at the first failure, so a bound lastException can only be this statement's.
            Throwable cause = lastException();
            String problem = cause != null ? "it threw " + cause
                    : result == Results.Incomplete$.MODULE$ ? "the statement is incomplete"
                    : "it does not compile";
            throw new NotebookCellException(notebook, cell.number(), s.line(), s.code(), problem,
                    statementOutput.toString(StandardCharsets.UTF_8), cause);
        }

        /** The exception the REPL caught last ({@code lastException} in the REPL), if it bound one. */
        private Throwable lastException() {
            try {
                Option<Object> v = intp.valueOfTerm("lastException");
                return v.isDefined() && v.get() instanceof Throwable ? (Throwable) v.get() : null;
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }

        /**
         * Runs {@code body} with the REPL's and the notebook's output going to {@code sink}, and to
         * the echo stream as well when {@code echoed}.
         */
        private <T> T withOutput(OutputStream sink, boolean echoed, Function0<T> body) {
            out.capture(sink, echoed);
            try {
                return Console.withOut(printer, () -> Console.withErr(printer, body));
            } finally {
                printer.flush();
                out.capture(null, true);
            }
        }

        void close() {
            intp.close();
        }
    }

    /** The name a class, trait or object defines, to keep companions in one REPL line; null for anything else. */
    private static String definedName(Trees.Tree tree) {
        if (tree instanceof Trees.ClassDef) {
            return ((Trees.ClassDef) tree).name().toString();
        }
        if (tree instanceof Trees.ModuleDef) {
            return ((Trees.ModuleDef) tree).name().toString();
        }
        return null;
    }

    /** {@code code[from, to)} without trailing blanks, and the notebook line where it starts. */
    private static Statement statement(Cell cell, String code, int from, int to) {
        int lineInCell = 0;
        for (int i = 0; i < from; i++) {
            if (code.charAt(i) == '\n') {
                lineInCell++;
            }
        }
        // The statement's first line is that of its first non-blank character.
        int first = from;
        while (first < to && Character.isWhitespace(code.charAt(first))) {
            if (code.charAt(first) == '\n') {
                lineInCell++;
            }
            first++;
        }
        return new Statement(code.substring(from, to).stripTrailing(), cell.firstLine() + lineInCell);
    }

    private record Statement(String code, int line) {
    }

    private Path createClassDir() {
        try {
            Files.createDirectories(workDir);
            return Files.createTempDirectory(workDir, "repl-classes-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the REPL's classes under " + workDir, e);
        }
    }

    private static Map<String, String> setProperties(Map<String, String> props) {
        Map<String, String> previous = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            previous.put(e.getKey(), System.getProperty(e.getKey()));
            System.setProperty(e.getKey(), e.getValue());
        }
        return previous;
    }

    private static void restoreProperties(Map<String, String> previous) {
        previous.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
    }

    /** Stops the sessions (and so the SparkContext) a notebook made; a session that was there before stays. */
    private static void stopSessionsCreatedSince(Option<SparkSession> before) {
        SparkSession kept = before.isDefined() ? before.get() : null;
        for (Option<SparkSession> s : List.of(SparkSession.getActiveSession(), SparkSession.getDefaultSession())) {
            if (s.isDefined() && s.get() != kept && !s.get().sparkContext().isStopped()) {
                s.get().stop();
            }
        }
        if (kept == null) {
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A left-over temporary directory is not worth failing a finished run for.
        }
    }

    /** Sends everything to the echo stream (unless muted) and, while a capture is set, to the capture too. */
    private static final class SwitchableStream extends OutputStream {
        private final PrintStream echo;
        private OutputStream capture;
        private boolean echoed = true;

        SwitchableStream(PrintStream echo) {
            this.echo = echo;
        }

        synchronized void capture(OutputStream sink, boolean echoed) {
            this.capture = sink;
            this.echoed = echoed;
        }

        @Override
        public synchronized void write(int b) throws IOException {
            if (echoed) {
                echo.write(b);
            }
            if (capture != null) {
                capture.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (echoed) {
                echo.write(b, off, len);
            }
            if (capture != null) {
                capture.write(b, off, len);
            }
        }

        @Override
        public synchronized void flush() {
            echo.flush();
        }
    }

    /** Settings of a {@link NotebookRunner}. */
    public static final class Builder {
        private String classpath = System.getProperty("java.class.path");
        private final Map<String, String> conf = new LinkedHashMap<>();
        private PrintStream echo = System.out;
        private Path workDir = Path.of(System.getProperty("java.io.tmpdir"));

        private Builder() {
        }

        /**
         * The classpath the REPL compiles cells against: Spark, Sparkgrad and whatever the
         * notebooks import (default: {@code java.class.path}). The classes themselves are loaded
         * through this JVM's class loader first, so they are the ones Spark runs with.
         */
        public Builder classpath(String value) {
            this.classpath = Objects.requireNonNull(value, "classpath");
            return this;
        }

        /**
         * A setting the notebook's {@code SparkSession.builder().getOrCreate()} sees, such as
         * {@code spark.master} or a {@code spark.sparkgrad.*} value the notebook reads with
         * {@code spark.conf.get}: set as a system property for the length of the run.
         */
        public Builder conf(String key, String value) {
            conf.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, () -> "value of " + key));
            return this;
        }

        /** Where the cells' output and the REPL's echo go as the notebook runs (default: {@code System.out}). */
        public Builder echo(PrintStream value) {
            this.echo = Objects.requireNonNull(value, "echo");
            return this;
        }

        /** Where the REPL's class directory is made (and deleted after the run); default: {@code java.io.tmpdir}. */
        public Builder workDir(Path value) {
            this.workDir = Objects.requireNonNull(value, "workDir");
            return this;
        }

        public NotebookRunner build() {
            return new NotebookRunner(this);
        }
    }
}
