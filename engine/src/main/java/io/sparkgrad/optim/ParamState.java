package io.sparkgrad.optim;

import io.sparkgrad.Tensor;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an optimizer keeps for one parameter, PyTorch's {@code optimizer.state[p]}: the number of
 * updates it has had and named buffers shaped like it ({@code "momentum_buffer"},
 * {@code "exp_avg"}, {@code "exp_avg_sq"}, {@code "max_exp_avg_sq"}, {@code "square_avg"},
 * {@code "grad_avg"}). Buffers are contiguous, of the parameter's dtype, and updated in place.
 */
public final class ParamState {
    private long step;
    private final Map<String, Tensor> buffers = new TreeMap<>();

    /** How many optimizer steps have updated this parameter (steps where it had no gradient don't count). */
    public long step() {
        return step;
    }

    /** The named buffer, or null if the optimizer has not created it. */
    public Tensor buffer(String name) {
        return buffers.get(name);
    }

    /** All buffers by name, read-only. */
    public Map<String, Tensor> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    void setStep(long step) {
        this.step = step;
    }

    /** The named buffer, created as zeros shaped like {@code param} the first time it is asked for. */
    Tensor zerosBuffer(String name, Tensor param) {
        return buffers.computeIfAbsent(name, k -> Tensor.zerosLike(param));
    }

    void putBuffer(String name, Tensor buffer) {
        buffers.put(name, buffer);
    }
}
