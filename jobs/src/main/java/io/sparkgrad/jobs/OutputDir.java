package io.sparkgrad.jobs;

import io.sparkgrad.jobs.cli.UsageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.UUID;

/**
 * An output directory written all at once: everything goes into a hidden staging directory next to
 * the target ({@code .NAME.tmp-UUID}), which {@link #commit()} renames to the target when the job
 * has succeeded. A failed job deletes its staging directory ({@link #close()}); a killed one leaves
 * only that hidden directory, never a target that looks complete. An existing target is an error,
 * unless overwriting was asked for, in which case it is replaced only at commit.
 */
final class OutputDir implements AutoCloseable {
    private final FileSystem fs;
    private final Path target;
    private final Path staging;
    private final boolean overwrite;
    private boolean committed;

    private OutputDir(FileSystem fs, Path target, Path staging, boolean overwrite) {
        this.fs = fs;
        this.target = target;
        this.staging = staging;
        this.overwrite = overwrite;
    }

    /**
     * Checks {@code target} and picks the staging directory (not created: Spark writers create it).
     *
     * @param option the command-line option that named the target, for errors
     * @throws UsageException when the target exists and {@code overwrite} is false, or its parent is a file
     */
    static OutputDir prepare(Configuration conf, String target, boolean overwrite, String option) {
        try {
            Path t = new Path(target);
            FileSystem fs = t.getFileSystem(conf);
            t = fs.makeQualified(t);
            if (t.getParent() == null) {
                throw new UsageException(option + ": " + target + " is a file system root; give a directory below it");
            }
            if (fs.exists(t) && !overwrite) {
                throw new UsageException(option + ": " + target + " already exists; choose a new directory or pass "
                        + "--overwrite to replace it");
            }
            if (fs.exists(t.getParent()) && !fs.getFileStatus(t.getParent()).isDirectory()) {
                throw new UsageException(option + ": " + t.getParent() + " is a file, not a directory");
            }
            Path staging = new Path(t.getParent(), "." + t.getName() + ".tmp-" + UUID.randomUUID());
            return new OutputDir(fs, t, staging, overwrite);
        } catch (IOException e) {
            throw new UsageException(option + ": cannot use " + target + ": " + e.getMessage(), e);
        }
    }

    /** The final directory. */
    Path target() {
        return target;
    }

    /** The staging directory, where everything is written. */
    Path staging() {
        return staging;
    }

    /** {@code name} inside the staging directory. */
    Path file(String name) {
        return new Path(staging, name);
    }

    FileSystem fs() {
        return fs;
    }

    /** Creates the staging directory (for jobs that write files into it themselves). */
    OutputDir create() {
        try {
            if (!fs.mkdirs(staging)) {
                throw new IOException("mkdirs returned false");
            }
            return this;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + staging, e);
        }
    }

    /** Writes {@code bytes} to {@code name} in the staging directory. */
    void write(String name, byte[] bytes) throws IOException {
        try (FSDataOutputStream out = fs.create(file(name), true)) {
            out.write(bytes);
        }
    }

    /** Renames the staging directory to the target (replacing it when overwriting was asked for). */
    void commit() throws IOException {
        Path old = null;
        if (fs.exists(target)) {
            if (!overwrite) {
                throw new IOException(target + " appeared while the job ran; the result stays in " + staging);
            }
            old = new Path(target.getParent(), "." + target.getName() + ".old-" + UUID.randomUUID());
            if (!fs.rename(target, old)) {
                throw new IOException("could not move the old " + target + " aside");
            }
        }
        if (!fs.rename(staging, target)) {
            if (old != null) {
                fs.rename(old, target);
            }
            throw new IOException("could not rename " + staging + " to " + target);
        }
        committed = true;
        if (old != null) {
            fs.delete(old, true);
        }
    }

    /** Deletes the staging directory unless committed. */
    @Override
    public void close() {
        if (!committed) {
            try {
                fs.delete(staging, true);
            } catch (IOException e) {
                System.err.println("sparkgrad: could not delete the staging directory " + staging + ": " + e.getMessage());
            }
        }
    }
}
