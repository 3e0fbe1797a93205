package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.io.SafeTensorsFormatException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoint files in a directory of any Hadoop file system ({@code file:}, {@code hdfs:},
 * {@code s3a:}, …): {@code checkpoint-<step>.safetensors}.
 *
 * <h2>Never half-written, always checked</h2>
 * <ul>
 *   <li>Each checkpoint is written to a hidden temporary file in the same directory, flushed,
 *       synced, closed and only then renamed into place, so the name of a checkpoint only ever
 *       points at a whole file. A crash mid-write leaves a hidden {@code .checkpoint-….tmp} that no
 *       reader looks at; the next store over the directory deletes it.</li>
 *   <li>Each checkpoint carries a checksum of its contents ({@link CheckpointDigest}) in its
 *       metadata. Reading recomputes it, so damage that the safetensors reader cannot see (a flipped
 *       bit in a weight) is caught as surely as a truncated file.</li>
 *   <li>After a new checkpoint is in place, all but the newest {@code keep} (at least 2) are
 *       deleted, so the previous good one is still there if the newest turns out damaged.</li>
 *   <li>{@link #latest()} returns the newest checkpoint that reads back intact; a damaged newer one
 *       is logged (its path and what is wrong), renamed to {@code <name>.corrupt} so that it is
 *       neither read nor pruned nor overwritten unnoticed, and the previous one is used.</li>
 * </ul>
 */
final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");
    private static final Pattern TEMPORARY = Pattern.compile("\\.checkpoint-\\d+\\.safetensors\\.[0-9a-f-]+\\.tmp");

    /** The fewest checkpoints kept: the newest and the one to fall back to if the newest is damaged. */
    static final int MIN_KEEP = 2;

    private final Path dir;
    private final FileSystem fs;
    private final int keep;

    /**
     * Opens (creating it if needed) {@code dir} and deletes temporary files that a writer killed
     * mid-write left behind.
     */
    CheckpointStore(String dir, Configuration hadoopConf, int keep) {
        if (keep < MIN_KEEP) {
            throw new IllegalArgumentException("keepCheckpoints must be >= " + MIN_KEEP
                    + " so that a damaged newest checkpoint has a previous one to fall back to, got " + keep);
        }
        try {
            this.dir = new Path(dir);
            this.fs = this.dir.getFileSystem(hadoopConf);
            this.keep = keep;
            fs.mkdirs(this.dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open checkpoint directory " + dir, e);
        }
        deleteLeftoverTemporaries();
    }

    /** A checkpoint read back intact. */
    record Loaded(long step, Path path, SafeTensors.Contents contents) {
        /** A metadata value the trainer wrote; a clear error when it is missing or malformed. */
        String text(String key) {
            String v = contents.metadata().get(key);
            if (v == null) {
                throw new IllegalStateException("checkpoint " + path + " has no metadata entry " + key
                        + ": it was not written by this version of the Sparkgrad trainer");
            }
            return v;
        }

        long longValue(String key) {
            return parsed(key, "an integer", Long::parseLong);
        }

        int intValue(String key) {
            return parsed(key, "an integer", Integer::parseInt);
        }

        double doubleValue(String key) {
            return parsed(key, "a number", Double::parseDouble);
        }

        private <T> T parsed(String key, String what, java.util.function.Function<String, T> parser) {
            try {
                return parser.apply(text(key));
            } catch (NumberFormatException e) {
                throw malformed(key, what);
            }
        }

        boolean booleanValue(String key) {
            String v = text(key);
            if (!v.equals("true") && !v.equals("false")) {
                throw malformed(key, "true or false");
            }
            return Boolean.parseBoolean(v);
        }

        private IllegalStateException malformed(String key, String what) {
            return new IllegalStateException("checkpoint " + path + ": metadata entry " + key + " is \""
                    + contents.metadata().get(key) + "\", not " + what);
        }
    }

    Path pathOf(long step) {
        return new Path(dir, String.format("checkpoint-%012d.safetensors", step));
    }

    /**
     * Writes the checkpoint of {@code step} (its checksum added to {@code metadata}) atomically and
     * prunes old ones; returns its path.
     */
    Path save(long step, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, String> meta = new TreeMap<>(metadata);
        meta.put(CheckpointDigest.KEY, CheckpointDigest.of(tensors, meta));
        Path target = pathOf(step);
        Path tmp = new Path(dir, "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                SafeTensors.write(tensors, meta, out);
                out.hflush();
                out.hsync();
            }
            // Only a checkpoint of the same step is replaced (one set aside as damaged, or a run
            // that resumed from an older one); Hadoop's rename does not overwrite.
            if (fs.exists(target)) {
                fs.delete(target, false);
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename of " + tmp + " to " + target + " failed");
            }
        } catch (IOException e) {
            try {
                fs.delete(tmp, false);
            } catch (IOException ignored) {
                // the temporary file is hidden and never read; the next store deletes it
            }
            throw new UncheckedIOException("writing checkpoint " + target, e);
        }
        prune();
        return target;
    }

    private void prune() {
        List<Long> steps = list();
        for (int i = 0; i < steps.size() - keep; i++) {
            Path old = pathOf(steps.get(i));
            try {
                fs.delete(old, false);
            } catch (IOException e) {
                LOG.warn("could not delete old checkpoint {}: {}", old, e.toString());
            }
        }
    }

    /** The steps of the checkpoints present, oldest first. */
    private List<Long> list() {
        List<Long> out = new ArrayList<>();
        for (FileStatus st : listDirectory()) {
            Matcher m = NAME.matcher(st.getPath().getName());
            if (st.isFile() && m.matches()) {
                out.add(Long.parseLong(m.group(1)));
            }
        }
        out.sort(Long::compare);
        return out;
    }

    private FileStatus[] listDirectory() {
        try {
            return fs.exists(dir) ? fs.listStatus(dir) : new FileStatus[0];
        } catch (IOException e) {
            throw new UncheckedIOException("listing checkpoint directory " + dir, e);
        }
    }

    private void deleteLeftoverTemporaries() {
        for (FileStatus st : listDirectory()) {
            if (st.isFile() && TEMPORARY.matcher(st.getPath().getName()).matches()) {
                try {
                    fs.delete(st.getPath(), false);
                    LOG.info("sparkgrad: deleted {}, a checkpoint that a stopped run left half-written", st.getPath());
                } catch (IOException e) {
                    LOG.warn("could not delete the half-written checkpoint {}: {}", st.getPath(), e.toString());
                }
            }
        }
    }

    /**
     * Reads one checkpoint file and checks it against its checksum.
     *
     * @throws CorruptCheckpointException when the file is truncated, is not safetensors, fails the file
     *                                    system's own checksum, or its contents do not match its checksum
     * @throws IOException                when it cannot be read at all (missing, no permission, the
     *                                    file system is down)
     */
    Loaded read(Path path, long step) throws IOException {
        String name = path.toString();
        SafeTensors.Contents contents;
        try {
            long length = fs.getFileStatus(path).getLen();
            try (FSDataInputStream in = fs.open(path)) {
                contents = SafeTensors.read(in, length, name);
            }
        } catch (SafeTensorsFormatException e) {
            throw new CorruptCheckpointException(name, "not a whole safetensors file: " + e.getMessage(), e);
        } catch (ChecksumException e) {
            throw new CorruptCheckpointException(name, "the file system's own checksum does not match at byte offset "
                    + e.getPos() + ": " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new CorruptCheckpointException(name, "it ends early: " + e.getMessage(), e);
        }
        String stored = contents.metadata().get(CheckpointDigest.KEY);
        if (stored == null) {
            throw new CorruptCheckpointException(name, "it has no " + CheckpointDigest.KEY
                    + " metadata entry (its header was damaged, or it was not written by the Sparkgrad trainer)", null);
        }
        String actual = CheckpointDigest.of(contents.tensors(), contents.metadata());
        if (!stored.equals(actual)) {
            throw new CorruptCheckpointException(name, "its contents do not match its checksum (stored " + stored
                    + ", computed " + actual + "): a tensor value, shape or metadata entry changed after it was written",
                    null);
        }
        return new Loaded(step, path, contents);
    }

    /**
     * The newest checkpoint that reads back intact, or null when there is none. A damaged newer one
     * is logged, set aside as {@code <name>.corrupt}, and the one before it is tried; one that cannot
     * be read for another reason (the file system failed) is logged and skipped but left in place.
     */
    Loaded latest() {
        List<Long> steps = list();
        for (int i = steps.size() - 1; i >= 0; i--) {
            Path p = pathOf(steps.get(i));
            String fallback = i > 0 ? "falling back to " + pathOf(steps.get(i - 1)).getName()
                    : "no older checkpoint is left, so training starts from the beginning";
            try {
                return read(p, steps.get(i));
            } catch (CorruptCheckpointException e) {
                LOG.warn("sparkgrad: {}; it is set aside as {} and {}", e.getMessage(), setAside(p), fallback);
            } catch (FileNotFoundException e) {
                LOG.warn("sparkgrad: checkpoint {} disappeared while being read ({}); {}", p, e.getMessage(), fallback);
            } catch (IOException e) {
                LOG.warn("sparkgrad: checkpoint {} cannot be read ({}); {}", p, e.toString(), fallback);
            }
        }
        return null;
    }

    /** Renames a damaged checkpoint out of the way (keeping it for inspection); returns its new name. */
    private String setAside(Path damaged) {
        Path aside = new Path(dir, damaged.getName() + "." + System.currentTimeMillis() + ".corrupt");
        try {
            if (fs.rename(damaged, aside)) {
                return aside.getName();
            }
        } catch (IOException e) {
            LOG.warn("could not rename the damaged checkpoint {}: {}", damaged, e.toString());
        }
        return damaged.getName() + " (could not be renamed; it will be overwritten when training reaches its step)";
    }
}
