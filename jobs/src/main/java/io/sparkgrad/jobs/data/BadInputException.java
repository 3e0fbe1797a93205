package io.sparkgrad.jobs.data;

/**
 * An input file that cannot be read as the format it should have (cut short, a wrong header, an
 * unsupported column type): thrown on the driver or inside a task, its message names the file and
 * the place. The jobs report it as a usage error (exit status 2).
 */
public final class BadInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadInputException(String message) {
        super(message);
    }

    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
