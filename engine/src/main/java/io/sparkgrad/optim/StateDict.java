package io.sparkgrad.optim;

import io.sparkgrad.Tensor;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * An optimizer's state in the two shapes a safetensors file holds: named tensors and a flat
 * string-to-string metadata map. Write it with
 * {@code SafeTensors.save(sd.tensors(), sd.metadata(), path)} and read it back into
 * {@code new StateDict(tensors, metadata)}.
 *
 * <p>Layout (parameters are numbered across all groups in order, as in PyTorch):
 * <ul>
 *   <li>tensor {@code state.<i>.step}: int64 scalar, the update count of parameter {@code i};
 *   <li>tensor {@code state.<i>.<buffer>}: that parameter's buffers ({@code exp_avg}, …);
 *   <li>metadata {@code optimizer}: the optimizer's name ({@code "Adam"});
 *       {@code param_groups}: the number of groups;
 *       {@code param_groups.<g>.params}: the group's parameter numbers, comma-separated;
 *       {@code param_groups.<g>.<option>}: each option, a number as {@link Double#toString(double)}
 *       writes it (which parses back to the same double, so a resumed run is bit-identical) or
 *       {@code true}/{@code false}.
 * </ul>
 * Keys are sorted. To keep a model and its optimizer in one file, add a prefix with
 * {@link #withPrefix(String)} and take it off again with {@link #select(Map, Map, String)}.
 */
public final class StateDict {
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    public StateDict(Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
        this.metadata = Collections.unmodifiableMap(new TreeMap<>(metadata));
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The same entries with {@code prefix} in front of every key (tensors and metadata). */
    public StateDict withPrefix(String prefix) {
        Map<String, Tensor> t = new TreeMap<>();
        tensors.forEach((k, v) -> t.put(prefix + k, v));
        Map<String, String> m = new TreeMap<>();
        metadata.forEach((k, v) -> m.put(prefix + k, v));
        return new StateDict(t, m);
    }

    /** The entries whose keys start with {@code prefix}, with the prefix taken off. */
    public static StateDict select(Map<String, Tensor> tensors, Map<String, String> metadata, String prefix) {
        Map<String, Tensor> t = new TreeMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                t.put(k.substring(prefix.length()), v);
            }
        });
        Map<String, String> m = new TreeMap<>();
        metadata.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                m.put(k.substring(prefix.length()), v);
            }
        });
        return new StateDict(t, m);
    }

    @Override
    public String toString() {
        return "StateDict(tensors=" + tensors.keySet() + ", metadata=" + metadata + ")";
    }
}
