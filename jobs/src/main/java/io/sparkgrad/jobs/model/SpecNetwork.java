package io.sparkgrad.jobs.model;

import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.train.SerializableSupplier;

import java.util.function.Supplier;

/**
 * The network factory of a {@link ModelSpec}: what the Spark ML estimator's {@code moduleFactory}
 * holds when a job trains a JSON-specified network. Executors receive it with its spec (Java
 * serialization); every call builds the same architecture.
 *
 * <h2>Saving and loading</h2>
 * A saved Spark ML stage records only the factory's class name and rebuilds it with the public
 * no-argument constructor. So the jobs save the spec next to the model ({@link #SPEC_FILE}) and
 * load such a model through {@link #loading(String, Supplier)}, which hands the spec to that
 * constructor. Constructed any other way, the no-argument constructor fails with a message that
 * says how to load the model.
 */
public final class SpecNetwork implements SerializableSupplier<Module> {
    private static final long serialVersionUID = 1L;
    /** The spec's file name inside a model directory written by the train job. */
    public static final String SPEC_FILE = "sparkgrad-model-spec.json";
    private static final ThreadLocal<String> LOADING = new ThreadLocal<>();

    private final String json;
    private transient ModelSpec spec;

    public SpecNetwork(ModelSpec spec) {
        this.spec = spec;
        this.json = spec.toJson();
    }

    /**
     * For Spark ML's loader only, inside {@link #loading(String, Supplier)}.
     *
     * @throws IllegalStateException elsewhere: the spec is not known
     */
    public SpecNetwork() {
        String j = LOADING.get();
        if (j == null) {
            throw new IllegalStateException("a model with a JSON network spec needs its spec to load: load it with "
                    + "io.sparkgrad.jobs.ModelDir.load(path), or run the evaluate/predict jobs on it (the spec is "
                    + SPEC_FILE + " in the model directory)");
        }
        this.json = j;
        this.spec = ModelSpec.parse(j, SPEC_FILE);
    }

    /** Runs {@code load} with {@code specJson} available to the no-argument constructor on this thread. */
    public static <T> T loading(String specJson, Supplier<T> load) {
        String previous = LOADING.get();
        LOADING.set(specJson);
        try {
            return load.get();
        } finally {
            if (previous == null) {
                LOADING.remove();
            } else {
                LOADING.set(previous);
            }
        }
    }

    public ModelSpec spec() {
        if (spec == null) {
            spec = ModelSpec.parse(json, "the network spec");
        }
        return spec;
    }

    /** The canonical JSON of the spec. */
    public String json() {
        return json;
    }

    @Override
    public Module get() {
        return spec().build();
    }

    @Override
    public String toString() {
        return "SpecNetwork" + spec().toString().substring("ModelSpec".length());
    }
}
