package io.sparkgrad.nn;

import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;

/**
 * In training, zeroes each element with probability {@code p} and scales the rest by
 * {@code 1/(1-p)}; in eval mode, the identity ({@code torch.nn.Dropout}). The masks come from a
 * {@link Generator}, so a seeded one makes training reproducible.
 */
public class Dropout extends Module {
    private final double p;
    private final Generator gen;

    public Dropout() {
        this(0.5);
    }

    /** Drawing masks from the default generator. */
    public Dropout(double p) {
        this(p, Generator.defaultGenerator());
    }

    public Dropout(double p, Generator gen) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout probability has to be between 0 and 1, but got " + p);
        }
        this.p = p;
        this.gen = gen;
    }

    public double p() {
        return p;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.dropout(input, p, isTraining(), gen);
    }

    @Override
    protected String extraRepr() {
        return "p=" + pyFloat(p) + ", inplace=False";
    }
}
