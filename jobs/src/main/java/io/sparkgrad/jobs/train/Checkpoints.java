package io.sparkgrad.jobs.train;

import io.sparkgrad.io.SafeTensors;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the train job needs to know about the trainer's checkpoint directory: whether it holds a
 * run and where that run stands, so that a job refuses to continue a run silently and a resumed
 * job starts at the right epoch.
 *
 * <p>The trainer ({@code io.sparkgrad.spark.train.DistributedTrainer}) writes
 * {@code checkpoint-<step>.safetensors} files whose metadata holds its position
 * ({@code sparkgrad.epoch}, {@code sparkgrad.round}, {@code sparkgrad.stoppedEarly}). Reading those
 * keys couples the job to the trainer's checkpoint layout; a missing key is a clear error.
 */
public final class Checkpoints {
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d+)\\.safetensors");
    static final String EPOCH_KEY = "sparkgrad.epoch";
    static final String STOPPED_KEY = "sparkgrad.stoppedEarly";
    static final String ROUND_KEY = "sparkgrad.round";

    private Checkpoints() {
    }

    /**
     * The newest checkpoint: its file and step, the epochs it completed, whether early stopping ended
     * the run, and whether it was written in the middle of an epoch.
     */
    public record Latest(Path file, long step, int epochsDone, boolean stoppedEarly, boolean midEpoch) {
    }

    private static Path newest(Configuration conf, String dir) throws IOException {
        Path d = new Path(dir);
        FileSystem fs = d.getFileSystem(conf);
        if (!fs.exists(d)) {
            return null;
        }
        Path best = null;
        long bestStep = -1;
        for (FileStatus st : fs.listStatus(d)) {
            Matcher m = NAME.matcher(st.getPath().getName());
            if (st.isFile() && m.matches() && Long.parseLong(m.group(1)) > bestStep) {
                bestStep = Long.parseLong(m.group(1));
                best = st.getPath();
            }
        }
        return best;
    }

    /** The newest checkpoint in {@code dir}, or null when there is none. */
    public static Latest latest(Configuration conf, String dir) throws IOException {
        Path p = newest(conf, dir);
        if (p == null) {
            return null;
        }
        Map<String, String> meta = read(conf, p).metadata();
        Matcher m = NAME.matcher(p.getName());
        m.matches();
        return new Latest(p, Long.parseLong(m.group(1)), Integer.parseInt(need(meta, EPOCH_KEY, p)),
                Boolean.parseBoolean(need(meta, STOPPED_KEY, p)), Integer.parseInt(need(meta, ROUND_KEY, p)) > 0);
    }

    private static String need(Map<String, String> meta, String key, Path p) {
        String v = meta.get(key);
        if (v == null) {
            throw new IllegalStateException("checkpoint " + p + " has no metadata key " + key + "; it was written by a "
                    + "trainer this job does not know");
        }
        return v;
    }

    private static SafeTensors.Contents read(Configuration conf, Path p) throws IOException {
        FileSystem fs = p.getFileSystem(conf);
        long length = fs.getFileStatus(p).getLen();
        try (FSDataInputStream in = fs.open(p)) {
            return SafeTensors.read(in, length, p.toString());
        }
    }
}
