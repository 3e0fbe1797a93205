package io.sparkgrad.jobs;

import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import java.util.Locale;

/**
 * The Spark session of a job. Inside an application that already runs Spark (a Databricks JAR task,
 * a notebook, a test) the job uses that session, leaves it running and leaves its logging alone
 * unless {@code --log-level} is given. Otherwise it starts its own session, which it stops when
 * done: {@code local[*]} when no master is configured (a plain {@code java -cp} run), Kryo with
 * Sparkgrad's registrator when no serializer is configured, and Spark's log level set to
 * {@code --log-level} (default warn) as the context starts.
 */
final class Spark implements AutoCloseable {
    /** The choices of {@code --log-level}; {@code keep} leaves Spark's logging configuration alone. */
    static final String[] LOG_LEVELS = {"error", "warn", "info", "debug", "keep"};

    private final SparkSession session;
    private final boolean owned;

    private Spark(SparkSession session, boolean owned) {
        this.session = session;
        this.owned = owned;
    }

    /**
     * @param logLevel one of {@link #LOG_LEVELS}
     * @param explicit whether the level was given on the command line (rather than defaulted)
     */
    static Spark start(String appName, String logLevel, boolean explicit) {
        boolean setLevel = !logLevel.equals("keep");
        String level = logLevel.toUpperCase(Locale.ROOT);
        SparkSession hosted = SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
                : SparkSession.getDefaultSession().isDefined() ? SparkSession.getDefaultSession().get() : null;
        if (hosted != null) {
            if (setLevel && explicit) {
                hosted.sparkContext().setLogLevel(level);
            }
            return new Spark(hosted, false);
        }
        if (setLevel) {
            Configurator.setRootLevel(Level.toLevel(level));
        }
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName(appName);
        if (setLevel && !conf.contains("spark.log.level")) {
            b.config("spark.log.level", level); // applied as the context starts, after Spark sets up logging
        }
        if (!conf.contains("spark.master")) {
            b.master("local[*]");
        }
        if (!conf.contains("spark.serializer")) {
            b.config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                    .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName());
        }
        return new Spark(b.getOrCreate(), true);
    }

    /** {@link #start} with the {@code --log-level} option of {@code args}. */
    static Spark start(String appName, io.sparkgrad.jobs.cli.Cli.Args args) {
        return start(appName, args.choice("log-level", LOG_LEVELS), args.given("log-level"));
    }

    SparkSession session() {
        return session;
    }

    @Override
    public void close() {
        if (owned) {
            session.stop();
        }
    }
}
