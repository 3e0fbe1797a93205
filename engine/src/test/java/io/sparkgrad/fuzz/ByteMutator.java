package io.sparkgrad.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid file: the same seed gives the same mutants on every machine, so a
 * failure found in CI is replayed by running the test again. Each mutant carries a description of
 * what was done to it, which a failure report prints.
 *
 * <p>The mutations are those that find bugs in binary readers: bit flips, random and "interesting"
 * byte values, truncations, extensions, insertions, deletions, duplicated blocks, and integer
 * fields overwritten with extreme values in either byte order (the values a corrupt or hostile
 * header uses to ask for huge allocations or to overflow arithmetic).
 */
final class ByteMutator {
    /** Values an integer field is set to: zero, one, signs, the edges of every integer width. */
    static final long[] EXTREMES = {
        0, 1, 2, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
        0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 0x1_0000_0000L,
        Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE / 8, Integer.MIN_VALUE,
    };
    /** Bytes that mean something to some format: zero, all ones, sign bits, JSON punctuation. */
    private static final byte[] INTERESTING_BYTES = {
        0, (byte) 0xff, 0x7f, (byte) 0x80, 1, '{', '}', '[', ']', '"', ',', ':', '-', '9', '\\', ' ', '\n',
    };

    /** A mutated input and how it was made. */
    record Mutant(String how, byte[] bytes) {
    }

    private final SplittableRandom random;

    ByteMutator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    long extreme() {
        return EXTREMES[random.nextInt(EXTREMES.length)];
    }

    /**
     * One to three stacked random mutations of {@code base}. Half of the positions are drawn from
     * {@code interesting} (where the format's fields are), the rest anywhere.
     */
    Mutant mutate(byte[] base, int[] interesting) {
        byte[] b = base.clone();
        StringBuilder how = new StringBuilder();
        int rounds = 1 + random.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            if (how.length() > 0) {
                how.append("; ");
            }
            b = mutateOnce(b, interesting, how);
        }
        return new Mutant(how.toString(), b);
    }

    private int position(byte[] b, int[] interesting) {
        if (b.length == 0) {
            return 0;
        }
        if (interesting.length > 0 && random.nextBoolean()) {
            return Math.min(b.length - 1, interesting[random.nextInt(interesting.length)]);
        }
        return random.nextInt(b.length);
    }

    private byte[] mutateOnce(byte[] b, int[] interesting, StringBuilder how) {
        int at = position(b, interesting);
        switch (b.length == 0 ? 5 : random.nextInt(10)) {
            case 0: {
                int bit = random.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                how.append("flip bit ").append(bit).append(" of byte ").append(at);
                return b;
            }
            case 1: {
                byte v = (byte) random.nextInt(256);
                b[at] = v;
                how.append("byte ").append(at).append(" = ").append(v & 0xff);
                return b;
            }
            case 2: {
                byte v = INTERESTING_BYTES[random.nextInt(INTERESTING_BYTES.length)];
                b[at] = v;
                how.append("byte ").append(at).append(" = ").append(v & 0xff);
                return b;
            }
            case 3: {
                int length = random.nextInt(b.length + 1);
                how.append("truncate to ").append(length);
                return Arrays.copyOf(b, length);
            }
            case 4: {
                int from = random.nextInt(b.length + 1);
                int length = 1 + random.nextInt(Math.min(64, b.length - from) + 1);
                how.append("delete ").append(length).append(" bytes at ").append(from);
                return splice(b, from, Math.min(b.length, from + length), new byte[0]);
            }
            case 5: {
                byte[] extra = new byte[1 + random.nextInt(64)];
                for (int i = 0; i < extra.length; i++) {
                    extra[i] = (byte) random.nextInt(256);
                }
                int where = b.length == 0 || random.nextBoolean() ? b.length : at;
                how.append("insert ").append(extra.length).append(" random bytes at ").append(where);
                return splice(b, where, where, extra);
            }
            case 6: {
                int from = random.nextInt(b.length);
                int length = 1 + random.nextInt(Math.min(256, b.length - from));
                int where = random.nextInt(b.length + 1);
                how.append("copy ").append(length).append(" bytes from ").append(from).append(" to ").append(where);
                return splice(b, where, where, Arrays.copyOfRange(b, from, from + length));
            }
            default: {
                int width = random.nextBoolean() ? 4 : 8;
                ByteOrder order = random.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
                long v = extreme();
                int start = Math.max(0, Math.min(at, b.length - width));
                how.append(width * 8).append("-bit ").append(order).append(" at ").append(start).append(" = ").append(v);
                return putInteger(b, start, width, order, v);
            }
        }
    }

    /** {@code b} with {@code [from, to)} replaced by {@code insert}. */
    static byte[] splice(byte[] b, int from, int to, byte[] insert) {
        byte[] out = new byte[b.length - (to - from) + insert.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(insert, 0, out, from, insert.length);
        System.arraycopy(b, to, out, from + insert.length, b.length - to);
        return out;
    }

    /** A copy of {@code b} with the integer field at {@code at} set (as much of it as fits). */
    static byte[] putInteger(byte[] b, int at, int width, ByteOrder order, long value) {
        byte[] out = b.clone();
        ByteBuffer field = ByteBuffer.allocate(8).order(order);
        if (width == 8) {
            field.putLong(value);
        } else {
            field.putInt((int) value);
        }
        int n = Math.min(width, out.length - at);
        System.arraycopy(field.array(), 0, out, at, Math.max(0, n));
        return out;
    }
}
