package io.sparkgrad.spark.train;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.Parameter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A module's parameters laid end to end in one flat {@code float[]}, in
 * {@link Module#namedParameters()} order: what the driver broadcasts and what gradients are summed
 * in. Every replica built by the same factory has the same layout.
 */
final class ParamLayout {
    private final List<Parameter> params;
    private final List<String> names;
    private final int[] offsets;
    private final int size;

    ParamLayout(Module model) {
        this.params = new ArrayList<>();
        this.names = new ArrayList<>();
        List<Integer> offs = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (!p.requiresGrad()) {
                continue;
            }
            if (p.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "' is " + p.dtype()
                        + "; the distributed trainer trains float32 models (build them without .to(FLOAT64))");
            }
            params.add(p);
            names.add(e.getKey());
            offs.add((int) total);
            total += p.numel();
            if (total > Integer.MAX_VALUE - 64) {
                throw new IllegalArgumentException("the model has over " + (Integer.MAX_VALUE - 64)
                        + " parameters, more than one flat float buffer holds");
            }
        }
        if (params.isEmpty()) {
            throw new IllegalArgumentException("the model has no trainable parameters");
        }
        this.offsets = offs.stream().mapToInt(Integer::intValue).toArray();
        this.size = (int) total;
    }

    /** The trainable parameters, in layout order. */
    List<Parameter> params() {
        return params;
    }

    List<String> names() {
        return names;
    }

    int size() {
        return size;
    }

    /** A description of the layout for checking that a replica matches the driver's model. */
    String signature() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < params.size(); i++) {
            b.append(names.get(i)).append(Shapes.str(params.get(i).shape())).append(';');
        }
        return b.toString();
    }

    /** The parameters' values as a new flat buffer. */
    float[] flatten() {
        float[] flat = new float[size];
        for (int i = 0; i < params.size(); i++) {
            copyOut(params.get(i), flat, offsets[i]);
        }
        return flat;
    }

    /** Overwrites the parameters' values from a flat buffer. */
    void load(float[] flat) {
        checkLength(flat);
        try (var g = GradMode.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Parameter p = params.get(i);
                if (p.isContiguous() && !p.storage().onDevice()) {
                    System.arraycopy(flat, offsets[i], p.storage().floats(), p.storageOffset(), p.numel());
                    p.storage().bumpVersion();
                } else {
                    p.copy_(Tensor.wrap(slice(flat, offsets[i], p.numel()), p.shape()));
                }
            }
        }
    }

    /** The parameters' gradients as a new flat buffer (zeros where a parameter has none). */
    float[] gradients() {
        float[] flat = new float[size];
        for (int i = 0; i < params.size(); i++) {
            Tensor grad = params.get(i).grad();
            if (grad != null) {
                copyOut(grad, flat, offsets[i]);
            }
        }
        return flat;
    }

    /** Sets every parameter's {@code .grad} to {@code flat × scale} (in float64, rounded once). */
    void setGradients(float[] flat, double scale) {
        checkLength(flat);
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            int n = p.numel();
            float[] g = new float[n];
            int off = offsets[i];
            for (int k = 0; k < n; k++) {
                g[k] = (float) (flat[off + k] * scale);
            }
            p.setGrad(Tensor.wrap(g, p.shape()));
        }
    }

    private void checkLength(float[] flat) {
        if (flat.length != size) {
            throw new IllegalStateException("a flat parameter buffer of " + flat.length + " floats for a model of " + size
                    + " parameters: the model factory must build the same architecture every time");
        }
    }

    private static void copyOut(Tensor t, float[] flat, int offset) {
        Tensor c = t.contiguousData();
        if (c.dtype() != DType.FLOAT32 || c.storage().onDevice()) {
            float[] v = c.toFloatArray();
            System.arraycopy(v, 0, flat, offset, v.length);
        } else {
            System.arraycopy(c.storage().floats(), c.storageOffset(), flat, offset, c.numel());
        }
    }

    private static float[] slice(float[] flat, int offset, int n) {
        float[] out = new float[n];
        System.arraycopy(flat, offset, out, 0, n);
        return out;
    }
}
