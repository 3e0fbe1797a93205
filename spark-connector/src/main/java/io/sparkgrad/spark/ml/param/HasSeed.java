package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Params;

/**
 * The {@code seed} param: the random seed of the initial weights, the shuffling and the validation
 * split. Stages default it to the hash of their class name, as Spark's {@code HasSeed} does.
 */
public interface HasSeed extends Params {
    /** Random seed. */
    default LongParam seed() {
        return new LongParam(this, "seed", "random seed: initial weights, per-epoch shuffling, validation split");
    }

    default long getSeed() {
        return (Long) getOrDefault(seed());
    }
}
