package io.sparkgrad.spark.ml;

import io.sparkgrad.Generator;
import io.sparkgrad.nn.GELU;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.nn.Sigmoid;
import io.sparkgrad.nn.Tanh;
import io.sparkgrad.spark.train.SerializableSupplier;

import java.util.Arrays;
import java.util.Locale;

/**
 * The default network of {@link NeuralNetClassifier} and {@link NeuralNetRegressor}: a multilayer
 * perceptron {@code Linear, act, Linear, act, …, Linear} over the given widths, as a serializable
 * factory. Its initial weights come from a generator seeded with {@code seed}, so every call
 * builds the same network with the same values, on the driver or on any executor.
 *
 * <p>State dict keys are PyTorch's for {@code nn.Sequential}: {@code "0.weight"}, {@code "0.bias"},
 * {@code "2.weight"}, … (activations hold no parameters).
 */
public final class Mlp implements SerializableSupplier<Module> {
    private static final long serialVersionUID = 1L;

    private final int[] widths;
    private final String activation;
    private final long seed;

    /**
     * @param widths     every layer's width, input first and output last (at least two)
     * @param activation relu, tanh, sigmoid or gelu
     * @param seed       seed of the initial weights
     */
    public Mlp(int[] widths, String activation, long seed) {
        if (widths == null || widths.length < 2) {
            throw new IllegalArgumentException("an MLP needs at least an input and an output width, got "
                    + Arrays.toString(widths));
        }
        for (int w : widths) {
            if (w < 1) {
                throw new IllegalArgumentException("MLP widths must be >= 1, got " + Arrays.toString(widths));
            }
        }
        activation(activation); // checks the name
        this.widths = widths.clone();
        this.activation = activation.toLowerCase(Locale.ROOT);
        this.seed = seed;
    }

    /** {@code [numFeatures, hidden..., numOutputs]}. */
    public static Mlp of(int numFeatures, int[] hidden, int numOutputs, String activation, long seed) {
        int[] w = new int[hidden.length + 2];
        w[0] = numFeatures;
        System.arraycopy(hidden, 0, w, 1, hidden.length);
        w[w.length - 1] = numOutputs;
        return new Mlp(w, activation, seed);
    }

    public int[] widths() {
        return widths.clone();
    }

    /** Trainable parameters: the weights and biases of every layer, counted without building it. */
    public long parameters() {
        return parameters(widths);
    }

    /**
     * The parameter count of a perceptron over {@code widths} (input first, output last), in
     * {@code long}: what checks compare with a limit before anything is allocated.
     */
    public static long parameters(int[] widths) {
        long n = 0;
        for (int i = 0; i + 1 < widths.length; i++) {
            n += ((long) widths[i] + 1) * widths[i + 1];
        }
        return n;
    }

    public String activation() {
        return activation;
    }

    @Override
    public Module get() {
        Generator gen = new Generator(seed);
        Sequential net = new Sequential();
        for (int i = 0; i + 1 < widths.length; i++) {
            if (i > 0) {
                net.add(activation(activation));
            }
            net.add(new Linear(widths[i], widths[i + 1], true, gen));
        }
        return net;
    }

    static Module activation(String name) {
        switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "relu": return new ReLU();
            case "tanh": return new Tanh();
            case "sigmoid": return new Sigmoid();
            case "gelu": return new GELU();
            default: throw new IllegalArgumentException("activation must be relu, tanh, sigmoid or gelu, got \"" + name + "\"");
        }
    }

    @Override
    public String toString() {
        return "Mlp(" + Arrays.toString(widths) + ", " + activation + ")";
    }
}
