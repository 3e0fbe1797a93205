package io.sparkgrad.io;

import java.io.IOException;

/**
 * A safetensors file (or stream) that is truncated, corrupt or not safetensors at all. It is an
 * {@link IOException} because, like {@link java.util.zip.ZipException}, it is a fact about the
 * bytes on disk that a caller handling I/O failures should handle too; the message names the source,
 * the tensor (when one is involved) and the byte offset, so a user can find the damage with a hex
 * dump.
 */
public class SafeTensorsFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final String tensorName;
    private final long byteOffset;

    /**
     * @param source     the file or stream name, as given to the reader
     * @param tensorName the tensor the problem belongs to, or null when it belongs to the file
     * @param byteOffset where in the file the problem is (0 is the first byte of the length prefix)
     * @param problem    what is wrong, in words
     */
    public SafeTensorsFormatException(String source, String tensorName, long byteOffset, String problem) {
        super(source + (tensorName == null ? "" : ", tensor '" + printable(tensorName) + "'") + ", byte offset "
                + byteOffset + ": " + problem);
        this.source = source;
        this.tensorName = tensorName;
        this.byteOffset = byteOffset;
    }

    /** Longest piece of a file's own text (a tensor name, a dtype) that a message quotes. */
    static final int MAX_QUOTED = 80;

    /** Text taken from the file (a tensor name, a dtype), as a message quotes it: see {@link PrintableText}. */
    static String printable(String text) {
        return PrintableText.of(text, MAX_QUOTED);
    }

    /** The file or stream name given to the reader. */
    public String source() {
        return source;
    }

    /** The tensor the problem belongs to, or null when it concerns the file as a whole. */
    public String tensorName() {
        return tensorName;
    }

    /** Offset from the start of the file of the bytes that are wrong (or where bytes are missing). */
    public long byteOffset() {
        return byteOffset;
    }
}
