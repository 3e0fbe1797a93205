package io.sparkgrad.io;

/**
 * Text from a file or a command line, made safe to quote in a one-line error message. Such text
 * may hold anything: a newline (the message would span lines, and tools that show the first line
 * lose the rest), a terminal escape sequence, or a hundred megabytes. Control characters are
 * written as Java escapes and the text is cut, saying how long it was.
 */
public final class PrintableText {
    private PrintableText() {
    }

    /**
     * @param text     what to quote (null gives null)
     * @param maxChars how much of it to show
     */
    public static String of(String text, int maxChars) {
        if (text == null) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (; i < text.length() && b.length() < maxChars; i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || c == (char) 0x2028 || c == (char) 0x2029) {
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
}
