package io.sparkgrad.spark.train;

import java.io.IOException;

/**
 * A checkpoint file whose bytes are not what the trainer wrote: truncated, cut short by a crash of
 * the storage, flipped bits, a damaged header, or a checksum that does not match its contents. It
 * is an {@link IOException} because it is a fact about the bytes on disk. A resuming trainer never
 * lets it escape: it logs it, sets the file aside and resumes from the previous checkpoint (which is
 * why at least two are kept); {@link CheckpointStore#read} throws it for callers that read one file.
 */
public class CorruptCheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String file;

    /**
     * @param file    the checkpoint's path or URI
     * @param problem what is wrong with it, in words
     * @param cause   the reader's own error, or null
     */
    public CorruptCheckpointException(String file, String problem, Throwable cause) {
        super("checkpoint " + file + " is damaged: " + problem, cause);
        this.file = file;
    }

    /** The checkpoint's path or URI. */
    public String file() {
        return file;
    }
}
