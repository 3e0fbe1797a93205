package io.sparkgrad.jobs.data;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The files an input path means, as Spark's own readers see them: the matches of a glob, each
 * directory replaced by the files in it, in name order, without hidden ones (names starting with
 * {@code .} or {@code _}, such as {@code _SUCCESS} and checksum files).
 */
final class DataFiles {
    private DataFiles() {
    }

    /**
     * The data files of {@code path} (a directory that matches counts itself, for format detection
     * from its name, when {@code withDirectories}).
     *
     * @throws BadInputException when nothing matches or the file system cannot be read
     */
    static List<FileStatus> list(Configuration conf, String path, String option, boolean withDirectories) {
        Path p = new Path(path);
        List<FileStatus> out = new ArrayList<>();
        try {
            FileSystem fs = p.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(p);
            if (matches == null || matches.length == 0) {
                throw new BadInputException(option + ": " + path + " does not exist");
            }
            for (FileStatus m : matches) {
                if (!m.isDirectory()) {
                    out.add(m);
                    continue;
                }
                if (withDirectories) {
                    out.add(m);
                }
                FileStatus[] children = fs.listStatus(m.getPath());
                Arrays.sort(children, Comparator.comparing(s -> s.getPath().getName()));
                for (FileStatus c : children) {
                    String name = c.getPath().getName();
                    if (c.isFile() && !name.startsWith(".") && !name.startsWith("_")) {
                        out.add(c);
                    }
                }
            }
        } catch (IOException e) {
            throw new BadInputException(option + ": cannot list " + path + ": " + e.getMessage(), e);
        }
        return out;
    }
}
