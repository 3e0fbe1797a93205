package io.sparkgrad.spark.train;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.ArrayList;
import java.util.List;

/**
 * The lines one class logs while a test runs, through the Log4j 2 backend that Spark puts under
 * SLF4J: for asserting that a user is told something, not only that the code did it.
 *
 * <pre>{@code
 * try (LogCapture log = LogCapture.of(CheckpointStore.class)) {
 *     store.latest();
 *     assertTrue(log.lines().stream().anyMatch(l -> l.contains("is damaged")));
 * }
 * }</pre>
 */
final class LogCapture extends AbstractAppender implements AutoCloseable {
    private final Logger logger;
    private final Level previousLevel;
    private final List<String> lines = new ArrayList<>();

    private LogCapture(Logger logger) {
        super("capture-" + logger.getName(), null, null, true, Property.EMPTY_ARRAY);
        this.logger = logger;
        this.previousLevel = logger.getLevel();
    }

    static LogCapture of(Class<?> source) {
        Logger logger = (Logger) LogManager.getLogger(source);
        LogCapture capture = new LogCapture(logger);
        capture.start();
        logger.addAppender(capture);
        logger.setLevel(Level.INFO);
        return capture;
    }

    @Override
    public synchronized void append(LogEvent event) {
        lines.add(event.getLevel() + " " + event.getMessage().getFormattedMessage());
    }

    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }

    @Override
    public void close() {
        logger.removeAppender(this);
        logger.setLevel(previousLevel);
        stop();
    }
}
