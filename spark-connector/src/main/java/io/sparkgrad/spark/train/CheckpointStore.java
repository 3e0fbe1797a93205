package io.sparkgrad.spark.train;

import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoint files in a directory of any Hadoop file system ({@code file:}, {@code hdfs:},
 * {@code s3a:}, …): {@code checkpoint-<step>.safetensors}, each written to a hidden temporary
 * file in the same directory, flushed, closed and then renamed into place, so a reader (or a
 * resumed run) sees whole checkpoints only. After a new one is in place, all but the newest
 * {@code keep} are deleted.
 */
final class CheckpointStore {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");

    private final Path dir;
    private final FileSystem fs;
    private final int keep;

    CheckpointStore(String dir, Configuration hadoopConf, int keep) {
        try {
            this.dir = new Path(dir);
            this.fs = this.dir.getFileSystem(hadoopConf);
            this.keep = keep;
            fs.mkdirs(this.dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open checkpoint directory " + dir, e);
        }
    }

    /** A loaded checkpoint. */
    record Loaded(long step, Path path, SafeTensors.Contents contents) {
    }

    Path pathOf(long step) {
        return new Path(dir, String.format("checkpoint-%012d.safetensors", step));
    }

    /** Writes the checkpoint of {@code step} atomically and prunes old ones; returns its path. */
    Path save(long step, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Path target = pathOf(step);
        Path tmp = new Path(dir, "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                SafeTensors.write(tensors, metadata, out);
                out.hflush();
                out.hsync();
            }
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
                // the temporary file is hidden and never read; leave it
            }
            throw new UncheckedIOException("writing checkpoint " + target, e);
        }
        prune();
        return target;
    }

    private void prune() {
        List<long[]> steps = list();
        for (int i = 0; i < steps.size() - keep; i++) {
            Path old = pathOf(steps.get(i)[0]);
            try {
                fs.delete(old, false);
            } catch (IOException e) {
                LOG.warn("could not delete old checkpoint {}: {}", old, e.toString());
            }
        }
    }

    /** The steps of the checkpoints present, oldest first. */
    private List<long[]> list() {
        List<long[]> out = new ArrayList<>();
        try {
            if (!fs.exists(dir)) {
                return out;
            }
            for (FileStatus st : fs.listStatus(dir)) {
                Matcher m = NAME.matcher(st.getPath().getName());
                if (st.isFile() && m.matches()) {
                    out.add(new long[] {Long.parseLong(m.group(1))});
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing checkpoint directory " + dir, e);
        }
        out.sort((a, b) -> Long.compare(a[0], b[0]));
        return out;
    }

    /**
     * The newest readable checkpoint, or null when there is none. A newest file that cannot be
     * read (truncated by a crash of the storage, say) is reported and the one before it is used.
     */
    Loaded latest() {
        List<long[]> steps = list();
        for (int i = steps.size() - 1; i >= 0; i--) {
            Path p = pathOf(steps.get(i)[0]);
            try {
                long length = fs.getFileStatus(p).getLen();
                try (FSDataInputStream in = fs.open(p)) {
                    return new Loaded(steps.get(i)[0], p, SafeTensors.read(in, length, p.toString()));
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("checkpoint {} cannot be read ({}); trying an older one", p, e.toString());
            }
        }
        return null;
    }
}
