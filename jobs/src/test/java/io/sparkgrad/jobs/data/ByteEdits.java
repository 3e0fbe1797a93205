package io.sparkgrad.jobs.data;

import io.sparkgrad.jobs.fuzz.FuzzTally;
import org.junit.jupiter.api.Assertions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * Seeded edits of a valid binary file for the readers' fuzz tests: the same seed makes the same
 * files everywhere, and each edit says what it did, which a failure prints. Edits land half the
 * time on the positions the caller names (where the format keeps its lengths and counts).
 */
final class ByteEdits {
    /** What a corrupt or hostile length field says: signs, zero, and the edges of 32 and 64 bits. */
    static final long[] LENGTHS = {
        0, 1, -1, 3, 7, 100, 0x7fff, 0xffff, 1L << 16, 1L << 24, 1L << 30, 1L << 31, 0x7fff_ffffL, 0xffff_ffffL,
        1L << 32, 1L << 40, 3L << 30, -16, Long.MAX_VALUE, Long.MIN_VALUE,
    };

    private final SplittableRandom random;

    ByteEdits(long seed) {
        random = new SplittableRandom(seed);
    }

    int nextInt(int bound) {
        return random.nextInt(bound);
    }

    long length() {
        return LENGTHS[random.nextInt(LENGTHS.length)];
    }

    /** One to three edits of {@code file}; {@code how} receives their description. */
    byte[] edit(byte[] file, int[] fields, StringBuilder how) {
        byte[] b = file;
        for (int k = 1 + random.nextInt(3); k > 0; k--) {
            int at = b.length == 0 ? 0
                    : fields.length > 0 && random.nextBoolean() ? Math.min(b.length - 1, fields[random.nextInt(fields.length)])
                    : random.nextInt(b.length);
            int kind = b.length == 0 ? 4 : random.nextInt(7);
            how.append(how.length() > 0 ? "; " : "");
            if (kind == 0) {
                b = b.clone();
                int bit = random.nextInt(8);
                b[at] ^= (byte) (1 << bit);
                how.append("bit ").append(bit).append(" of byte ").append(at).append(" flipped");
            } else if (kind == 1) {
                b = b.clone();
                b[at] = (byte) random.nextInt(256);
                how.append("byte ").append(at).append(" set to ").append(b[at] & 0xff);
            } else if (kind == 2) {
                int cut = random.nextInt(b.length);
                how.append("cut to ").append(cut).append(" bytes");
                b = Arrays.copyOf(b, cut);
            } else if (kind == 3) {
                int n = Math.min(b.length - at, 1 + random.nextInt(32));
                how.append(n).append(" bytes removed at ").append(at);
                b = replace(b, at, at + n, new byte[0]);
            } else if (kind == 4) {
                byte[] junk = new byte[1 + random.nextInt(32)];
                random.nextBytes(junk);
                how.append(junk.length).append(" random bytes put in at ").append(at);
                b = replace(b, at, at, junk);
            } else {
                int width = kind == 5 ? 4 : 8;
                ByteOrder order = random.nextInt(4) == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
                long v = length();
                at = Math.max(0, Math.min(at, b.length - width));
                how.append(width * 8).append("-bit ").append(order).append(" ").append(v).append(" written at ").append(at);
                b = put(b, at, width, order, v);
            }
        }
        return b;
    }

    /** {@code b} with {@code [from, to)} replaced by {@code with}. */
    static byte[] replace(byte[] b, int from, int to, byte[] with) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length + with.length);
        out.write(b, 0, from);
        out.write(with, 0, with.length);
        out.write(b, to, b.length - to);
        return out.toByteArray();
    }

    /** A copy of {@code b} with the {@code width}-byte integer at {@code at} set to {@code v} (what fits of it). */
    static byte[] put(byte[] b, int at, int width, ByteOrder order, long v) {
        byte[] out = b.clone();
        for (int k = 0; k < width && at + k < out.length; k++) {
            int shift = 8 * (order == ByteOrder.LITTLE_ENDIAN ? k : width - 1 - k);
            out[at + k] = (byte) (v >>> shift);
        }
        return out;
    }

    static byte[] gzip(byte[] b) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + b.length);
        GZIPOutputStream z = new GZIPOutputStream(out);
        z.write(b);
        z.finish();
        return out.toByteArray();
    }

    /** The cases of one fuzz family, given the family's tally and edits. */
    @FunctionalInterface
    interface Cases {
        void run(FuzzTally tally, ByteEdits edits) throws Exception;
    }

    /**
     * Runs the fuzz family {@code name} with the seed {@code FuzzTally.seed(offset)} under a two-minute
     * limit, prints its tally and returns it.
     */
    static FuzzTally family(String name, long offset, Cases cases) {
        FuzzTally tally = new FuzzTally(name, FuzzTally.seed(offset), BadInputException.class);
        Assertions.assertTimeoutPreemptively(Duration.ofMinutes(2),
                () -> cases.run(tally, new ByteEdits(FuzzTally.seed(offset))));
        System.out.print(tally.summary());
        return tally;
    }
}
