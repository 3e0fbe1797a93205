package io.sparkgrad.data;

import java.io.IOException;

/**
 * An IDX file that is damaged, truncated or not IDX at all, or whose data type does not fit what
 * the caller asked for. The message names the file and the byte offset of the problem; for a
 * gzip file the offset counts uncompressed bytes, which is what {@code zcat file | xxd} shows.
 */
public class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final long byteOffset;
    private final boolean compressed;

    /**
     * @param source     the file or stream name given to the reader
     * @param byteOffset where the problem is, from the start of the (uncompressed) IDX data
     * @param compressed whether the file was gzip, so the offset counts uncompressed bytes
     * @param problem    what is wrong, in words
     */
    public IdxFormatException(String source, long byteOffset, boolean compressed, String problem) {
        super(source + ", " + (compressed ? "uncompressed byte offset " : "byte offset ") + byteOffset + ": " + problem);
        this.source = source;
        this.byteOffset = byteOffset;
        this.compressed = compressed;
    }

    /** The file or stream name given to the reader. */
    public String source() {
        return source;
    }

    /** Offset of the problem in the IDX data (after decompression for a gzip file). */
    public long byteOffset() {
        return byteOffset;
    }

    /** True when the file was gzip-compressed and {@link #byteOffset()} counts uncompressed bytes. */
    public boolean compressed() {
        return compressed;
    }
}
