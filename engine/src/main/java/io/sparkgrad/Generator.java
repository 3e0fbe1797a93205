package io.sparkgrad;

import java.util.SplittableRandom;

/**
 * A seeded source of random numbers ({@code torch.Generator}). The default one behind
 * {@link Tensor#manualSeed} is shared by all threads, so draws from it are synchronized; give each
 * thread its own generator when their sequences must not depend on scheduling.
 * SplittableRandom's algorithm is fixed by its specification, so a seed gives the same numbers on
 * every JVM.
 */
public final class Generator {
    private static final Generator DEFAULT = new Generator(0x5EED);

    private SplittableRandom random;

    public Generator(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public static Generator defaultGenerator() {
        return DEFAULT;
    }

    public synchronized Generator manualSeed(long seed) {
        this.random = new SplittableRandom(seed);
        return this;
    }

    /** Standard normal samples (Box–Muller over two uniforms, so the sequence is fully determined by the seed). */
    public synchronized void fillNormal(double[] out) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2.0 * Math.log(u1));
            out[i] = r * Math.cos(2 * Math.PI * u2);
            if (i + 1 < out.length) {
                out[i + 1] = r * Math.sin(2 * Math.PI * u2);
            }
        }
    }

    /** Uniform samples in [low, high). */
    public synchronized void fillUniform(double[] out, double low, double high) {
        for (int i = 0; i < out.length; i++) {
            out[i] = low + (high - low) * random.nextDouble();
        }
    }

    /** A uniform integer in [0, bound). */
    public synchronized int nextInt(int bound) {
        return random.nextInt(bound);
    }

    public synchronized long nextLong() {
        return random.nextLong();
    }
}
