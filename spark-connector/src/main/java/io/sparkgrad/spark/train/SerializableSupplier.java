package io.sparkgrad.spark.train;

import java.io.Serializable;
import java.util.function.Supplier;

/**
 * A {@link Supplier} that Spark can ship to executors: the model factory of a
 * {@link TrainerConfig}. Each executor task builds its own replica from it, so it must build the
 * same architecture every time (the initial values do not matter on executors: the driver's
 * parameters overwrite them before every step).
 *
 * <pre>{@code
 * SerializableSupplier<Module> net = () -> new Sequential(new Linear(784, 128), new ReLU(), new Linear(128, 10));
 * }</pre>
 *
 * A lambda assigned to this type is serializable as long as everything it captures is.
 *
 * @param <T> what it supplies
 */
@FunctionalInterface
public interface SerializableSupplier<T> extends Supplier<T>, Serializable {
}
