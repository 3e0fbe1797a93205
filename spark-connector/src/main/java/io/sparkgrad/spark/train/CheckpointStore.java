package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.io.SafeTensorsFormatException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.UnsupportedFileSystemException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
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
 *   <li>Each checkpoint is written to a hidden temporary file in the same directory, synced,
 *       closed and only then renamed into place, so the name of a checkpoint only ever points at a
 *       whole file. A crash mid-write leaves a hidden {@code .checkpoint-….tmp} that no reader
 *       looks at; the next store over the directory deletes it.</li>
 *   <li>How durable that is depends on the file system. On the local one ({@code file:}) the
 *       temporary file is forced to disk ({@code fsync}), renamed over the old name in one atomic
 *       step (also when a checkpoint of the same step is replaced), and the directory is forced
 *       too, so a power cut leaves either the old or the new file. On HDFS {@code hsync} reaches
 *       the datanodes' disks and a replacing rename is atomic. Elsewhere (object stores) Hadoop's
 *       rename is a copy that cannot replace atomically: a crash while a step is re-saved can lose
 *       that one step, and training falls back to the checkpoint before it.</li>
 *   <li>Each checkpoint carries a checksum of its contents ({@link CheckpointDigest}) in its
 *       metadata. Reading recomputes it, so damage that the safetensors reader cannot see (a flipped
 *       bit in a weight) is caught as surely as a truncated file.</li>
 *   <li>After a new checkpoint is in place, all but the newest {@code keep} (at least 2) are
 *       deleted, so the previous good one is still there if the newest turns out damaged.</li>
 *   <li>{@link #latest()} returns the newest checkpoint that reads back intact; a damaged newer one
 *       is logged (its path and what is wrong), renamed to {@code <name>.corrupt} so that it is
 *       neither read nor pruned nor overwritten unnoticed, and the previous one is used.</li>
 *   <li>Only names this store writes count: {@code checkpoint-} and the step in 12 (or more, past
 *       10<sup>12</sup>) digits without extra leading zeros. Anything else, such as a hand-copied
 *       {@code checkpoint-99.safetensors}, is logged once and neither read nor pruned.</li>
 * </ul>
 *
 * <p>Code outside the trainer (the {@code train} job) asks where a run stands with
 * {@link #resumePosition}, which uses the same verified fallback as a resuming trainer, and writes
 * its own files next to the checkpoints with {@link #writeBeside}.
 */
public final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{12,18})\\.safetensors");
    /**
     * A temporary file of {@link #commit}: a hidden name, {@code sparkgrad-} and a random UUID,
     * {@code .tmp}. The marker keeps other tools' temporaries in a shared directory (Spark's, the
     * jobs' Arrow writer's) out of the clean-up.
     */
    private static final Pattern TEMPORARY = Pattern.compile(
            "\\..+\\.sparkgrad-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.tmp");

    /** The fewest checkpoints kept: the newest and the one to fall back to if the newest is damaged. */
    static final int MIN_KEEP = 2;

    private final Path dir;
    private final FileSystem fs;
    private final Configuration conf;
    private final int keep;

    /**
     * Opens (creating it if needed) {@code dir} and deletes temporary files that a writer killed
     * mid-write left behind.
     */
    CheckpointStore(String dir, Configuration hadoopConf, int keep) {
        this(dir, hadoopConf, keep, true);
    }

    /** With {@code open} false, a store over {@code dir} that changes nothing until it is asked to. */
    private CheckpointStore(String dir, Configuration hadoopConf, int keep, boolean open) {
        if (keep < MIN_KEEP) {
            throw new IllegalArgumentException("keepCheckpoints must be >= " + MIN_KEEP
                    + " so that a damaged newest checkpoint has a previous one to fall back to, got " + keep);
        }
        try {
            this.dir = new Path(dir);
            this.fs = this.dir.getFileSystem(hadoopConf);
            this.conf = hadoopConf;
            this.keep = keep;
            if (open) {
                fs.mkdirs(this.dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open checkpoint directory " + dir, e);
        }
        if (open) {
            deleteLeftoverTemporaries();
            warnAboutForeignNames();
        }
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

    /** A checkpoint file present in the directory, under a name this store writes. */
    private record Entry(long step, Path path) {
    }

    /** The step of a checkpoint name this store writes, or -1 for any other name. */
    private static long stepOf(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return -1;
        }
        long step = Long.parseLong(m.group(1)); // at most 18 digits: always fits
        return String.format("checkpoint-%012d.safetensors", step).equals(name) ? step : -1;
    }

    /**
     * Writes the checkpoint of {@code step} (its checksum added to {@code metadata}) atomically and
     * prunes old ones; returns its path.
     */
    Path save(long step, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Map<String, String> meta = new TreeMap<>(metadata);
        meta.put(CheckpointDigest.KEY, CheckpointDigest.of(tensors, meta));
        Path target = pathOf(step);
        try {
            commit(target, out -> SafeTensors.write(tensors, meta, out));
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint " + target, e);
        }
        prune();
        return target;
    }

    /** What {@link #commit} writes into the temporary file. */
    private interface Body {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code target} whole or not at all: into a hidden temporary file, synced, then renamed
     * over {@code target} (see the class comment for what each file system guarantees).
     */
    private void commit(Path target, Body body) throws IOException {
        Path tmp = new Path(dir, "." + target.getName() + ".sparkgrad-" + UUID.randomUUID() + ".tmp");
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                body.writeTo(out);
                out.hflush();
                out.hsync();
            }
            if ("file".equals(fs.getUri().getScheme())) {
                replaceLocal(tmp, target);
            } else {
                replaceRemote(tmp, target);
            }
        } catch (IOException | RuntimeException e) {
            try {
                fs.delete(tmp, false);
            } catch (IOException ignored) {
                // the temporary file is hidden and never read; the next store deletes it
            }
            throw e;
        }
    }

    /**
     * The local file system: Hadoop's {@code hsync} there only flushes, so the file is forced here;
     * one atomic rename replaces the old file, and the directory is forced so the rename survives a
     * power cut. Hadoop's local file system keeps a checksum of each file in a hidden {@code .crc}
     * beside it: the target's old one goes first and the new one follows the data, so no moment
     * pairs new data with an old checksum (a file without one is still read, and checked against
     * its own digest).
     */
    private void replaceLocal(Path tmp, Path target) throws IOException {
        ChecksumFileSystem sums = fs instanceof ChecksumFileSystem c ? c : null;
        java.nio.file.Path newSum = sums == null ? null : local(sums.getChecksumFile(tmp));
        boolean hasSum = newSum != null && Files.exists(newSum);
        force(local(tmp));
        if (hasSum) {
            force(newSum);
        }
        if (sums != null) {
            Files.deleteIfExists(local(sums.getChecksumFile(target)));
        }
        Files.move(local(tmp), local(target), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (hasSum) {
            Files.move(newSum, local(sums.getChecksumFile(target)), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
        force(local(dir));
    }

    private java.nio.file.Path local(Path p) {
        return java.nio.file.Path.of(fs.makeQualified(p).toUri());
    }

    private static void force(java.nio.file.Path p) throws IOException {
        try (FileChannel c = FileChannel.open(p, Files.isDirectory(p) ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
            c.force(true);
        }
    }

    /**
     * Another file system. Hadoop's {@code FileSystem.rename} never overwrites; {@code FileContext}'s
     * does, atomically where the file system can (HDFS). Only a file system without a
     * {@code FileContext} binding has the old file deleted first (the window the class comment
     * describes).
     */
    private void replaceRemote(Path tmp, Path target) throws IOException {
        if (fs.exists(target)) {
            try {
                FileContext.getFileContext(fs.getUri(), conf).rename(tmp, target, Options.Rename.OVERWRITE);
                // FileContext over a plain FileSystem binding (object stores) ignores a rename that
                // returned false: make sure the new file is in place and the temporary gone.
                if (fs.exists(tmp) || !fs.exists(target)) {
                    throw new IOException("rename of " + tmp + " over " + target + " did not take place");
                }
                return;
            } catch (UnsupportedFileSystemException e) {
                fs.delete(target, false);
            }
        }
        if (!fs.rename(tmp, target)) {
            throw new IOException("rename of " + tmp + " to " + target + " failed");
        }
    }

    private void prune() {
        List<Entry> entries = list();
        for (int i = 0; i < entries.size() - keep; i++) {
            Path old = entries.get(i).path();
            try {
                fs.delete(old, false);
            } catch (IOException e) {
                LOG.warn("could not delete old checkpoint {}: {}", old, e.toString());
            }
        }
    }

    /** The checkpoints present under names this store writes, oldest first. */
    private List<Entry> list() {
        List<Entry> out = new ArrayList<>();
        for (FileStatus st : listDirectory()) {
            long step = stepOf(st.getPath().getName());
            if (st.isFile() && step >= 0) {
                out.add(new Entry(step, st.getPath()));
            }
        }
        out.sort((x, y) -> Long.compare(x.step(), y.step()));
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
                    LOG.info("sparkgrad: deleted {}, a file that a stopped run left half-written", st.getPath());
                } catch (IOException e) {
                    LOG.warn("could not delete the half-written file {}: {}", st.getPath(), e.toString());
                }
            }
        }
    }

    private void warnAboutForeignNames() {
        for (FileStatus st : listDirectory()) {
            String name = st.getPath().getName();
            if (name.startsWith("checkpoint-") && name.endsWith(".safetensors") && stepOf(name) < 0) {
                LOG.warn("sparkgrad: ignoring {}: not a checkpoint name the trainer writes (checkpoint-<step in 12 "
                        + "digits>.safetensors), so it is neither read nor pruned", st.getPath());
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
        List<Entry> entries = list();
        for (int i = entries.size() - 1; i >= 0; i--) {
            Path p = entries.get(i).path();
            String fallback = i > 0 ? "falling back to " + entries.get(i - 1).path().getName()
                    : "no older checkpoint is left, so training starts from the beginning";
            try {
                return read(p, entries.get(i).step());
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

    /**
     * Where a run stands in a checkpoint directory: the checkpoint a trainer resuming there starts
     * from, and its position.
     *
     * @param file         the checkpoint's path
     * @param step         the steps (synchronisations) done
     * @param epochsDone   the epochs completed
     * @param midEpoch     whether it was written inside epoch {@code epochsDone + 1}
     * @param stoppedEarly whether early stopping had ended the run
     */
    public record Position(String file, long step, int epochsDone, boolean midEpoch, boolean stoppedEarly) {
    }

    /**
     * The position of the checkpoint a trainer over {@code dir} would resume from: the newest one
     * that reads back intact, chosen as {@link #latest()} chooses it (damaged newer ones are logged
     * and set aside, so the trainer then finds the same one); null when there is none.
     *
     * @throws IllegalStateException when that checkpoint lacks the trainer's position entries (it was
     *                               written by another version)
     */
    public static Position resumePosition(String dir, Configuration hadoopConf) {
        Loaded l = new CheckpointStore(dir, hadoopConf, MIN_KEEP).latest();
        return l == null ? null : new Position(l.path().toString(), l.longValue("sparkgrad.step"),
                l.intValue("sparkgrad.epoch"), l.intValue("sparkgrad.round") > 0, l.booleanValue("sparkgrad.stoppedEarly"));
    }

    /**
     * The newest checkpoint file in {@code dir}, intact or not, or null when it holds none: a run
     * that a new one must not silently continue. Reads nothing and changes nothing.
     */
    public static String newestFile(String dir, Configuration hadoopConf) {
        List<Entry> entries = new CheckpointStore(dir, hadoopConf, MIN_KEEP, false).list();
        return entries.isEmpty() ? null : entries.get(entries.size() - 1).path().toString();
    }

    /**
     * Writes {@code bytes} to the file {@code name} in the checkpoint directory {@code dir} as
     * checkpoints are written: whole or not at all, replacing the old file in one rename where the
     * file system can (see the class comment). For files that belong with a run's checkpoints.
     */
    public static void writeBeside(String dir, String name, byte[] bytes, Configuration hadoopConf) throws IOException {
        CheckpointStore s = new CheckpointStore(dir, hadoopConf, MIN_KEEP, false);
        s.fs.mkdirs(s.dir);
        s.commit(new Path(s.dir, name), out -> out.write(bytes));
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
