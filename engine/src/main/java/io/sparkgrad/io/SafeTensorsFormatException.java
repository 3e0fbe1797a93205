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

    /**
     * Text taken from the file, made safe to quote in a one-line message: control characters (a
     * newline, a terminal escape sequence) are written as Java escapes, and anything past
     * {@value #MAX_QUOTED} characters is cut, saying how long it was. A hostile header can name a
     * tensor with a hundred megabytes or with escape codes; its error must still be one readable line.
     */
    static String printable(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < text.length() && b.length() < MAX_QUOTED; i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                b.append("\\n");
            } else if (Character.isISOControl(c) || c == (char) 0x2028 || c == (char) 0x2029) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (i < text.length()) {
            b.append("… (").append(text.length()).append(" characters)");
        }
        return b.toString();
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
