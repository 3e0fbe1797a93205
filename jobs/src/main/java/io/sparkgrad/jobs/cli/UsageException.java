package io.sparkgrad.jobs.cli;

/**
 * A bad argument or an input that cannot be used: the job prints {@link #getMessage()} as one line
 * and exits with status {@value #EXIT_CODE}, before or instead of writing any output.
 */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The exit status of a job that fails with this exception. */
    public static final int EXIT_CODE = 2;

    /** @param message one line naming the argument or file and what was expected */
    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
