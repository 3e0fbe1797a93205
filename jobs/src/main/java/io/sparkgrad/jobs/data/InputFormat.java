package io.sparkgrad.jobs.data;

import io.sparkgrad.jobs.cli.UsageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;

import java.util.Locale;

/** The input formats the jobs read, and how {@code --format auto} tells them apart. */
public enum InputFormat {
    PARQUET, CSV, LIBSVM, IDX, ARROW;

    /** The names {@code --format} accepts. */
    public static final String CHOICES = "auto, parquet, csv, libsvm, idx, arrow";

    /** Lower-case name, as on the command line. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code name} as given to {@code --format}; null for {@code auto}. */
    public static InputFormat parse(String name) {
        String n = name == null ? "auto" : name.toLowerCase(Locale.ROOT);
        if (n.equals("auto")) {
            return null;
        }
        for (InputFormat f : values()) {
            if (f.cliName().equals(n)) {
                return f;
            }
        }
        throw new UsageException("--format: expected one of " + CHOICES + ", got '" + name + "'");
    }

    /** The format a file name says, or null. */
    static InputFormat fromName(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        if (IdxSource.looksLikeIdx(n)) {
            return IDX;
        }
        if (ArrowIpc.looksLikeArrow(n)) {
            return ARROW;
        }
        String base = n.endsWith(".gz") || n.endsWith(".bz2") ? n.substring(0, n.lastIndexOf('.')) : n;
        if (base.endsWith(".parquet")) {
            return PARQUET;
        }
        if (base.endsWith(".csv") || base.endsWith(".tsv")) {
            return CSV;
        }
        if (base.endsWith(".libsvm") || base.endsWith(".svm")) {
            return LIBSVM;
        }
        return null;
    }

    /**
     * The format of {@code path}: from the file name, or for a directory from the first file in it
     * that says (hidden files and {@code _SUCCESS} skipped).
     *
     * @throws BadInputException when the path does not exist
     * @throws UsageException    when no name says the format
     */
    public static InputFormat detect(Configuration conf, String path, String option) {
        for (FileStatus f : DataFiles.list(conf, path, option, true)) {
            InputFormat format = fromName(f.getPath().getName());
            if (format != null) {
                return format;
            }
        }
        throw new UsageException("--format: cannot tell the format of " + path + " from its name (.parquet, .csv, "
                + ".libsvm, -idx3-ubyte, .arrow); give --format parquet, csv, libsvm, idx or arrow");
    }
}
