package io.sparkgrad.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads the files under {@code optim-golden/} (written by {@code scripts/gen-optim-golden.py},
 * PyTorch 1.13) and rebuilds what they describe: the shared problem, optimizers from a case's
 * PyTorch keyword arguments, schedules from their specs.
 */
final class Golden {
    /** Absolute and relative tolerance for float64 trajectories and rates against PyTorch's. */
    static final double TOL64 = 1e-12;
    /** Absolute and relative tolerance for float32 runs against PyTorch's float32 runs. */
    static final double TOL32 = 1e-6;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Golden() {
    }

    static JsonNode read(String name) {
        String path = "/optim-golden/" + name;
        try (InputStream in = Golden.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path + "; run scripts/gen-optim-golden.py");
            }
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asDouble();
        }
        return out;
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    /** A tensor of {@code dtype} holding {@code values} (exact doubles, rounded once for float32). */
    static Tensor tensor(double[] values, int[] shape, DType dtype) {
        return Tensor.of(values, shape).to(dtype);
    }

    /** Every element within {@code tol} absolute plus {@code tol} relative of the expected one. */
    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= tol + tol * Math.abs(expected[i]))) {
                fail(what + "[" + i + "]: expected " + expected[i] + " but got " + actual[i] + " (error " + err + ")");
            }
        }
    }

    // ------------------------------------------------------------------ the problem

    /** The shared problem of problem.json: initial parameters, C, and the fixed tensors G[k][i]. */
    static final class Problem {
        final int steps;
        final double c;
        final int[][] shapes;
        final double[][] init;
        /** grads[k][i], or null where parameter i has no gradient at step k. */
        final double[][][] grads;

        Problem(JsonNode doc) {
            steps = doc.get("steps").asInt();
            c = doc.get("c").asDouble();
            JsonNode s = doc.get("shapes");
            shapes = new int[s.size()][];
            init = new double[s.size()][];
            for (int i = 0; i < shapes.length; i++) {
                shapes[i] = ints(s.get(i));
                init[i] = doubles(doc.get("init").get(i));
            }
            grads = new double[steps][shapes.length][];
            for (int k = 0; k < steps; k++) {
                for (int i = 0; i < shapes.length; i++) {
                    JsonNode g = doc.get("grads").get(k).get(i);
                    grads[k][i] = g.isNull() ? null : doubles(g);
                }
            }
        }

        static Problem load() {
            return new Problem(read("problem.json"));
        }

        /** Fresh leaf parameters at the initial values. */
        List<Tensor> params(DType dtype) {
            List<Tensor> out = new ArrayList<>();
            for (int i = 0; i < shapes.length; i++) {
                out.add(tensor(init[i], shapes[i], dtype).requiresGrad_());
            }
            return out;
        }

        /**
         * Sets every parameter's gradient for step {@code k} as the script does: {@code p * C + G[k][i]}
         * (one multiplication, one addition, in the parameter's dtype), or none.
         */
        void setGrads(List<Tensor> params, int k) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                double[] g = grads[k][i];
                p.setGrad(g == null ? null : p.detach().mul(c).add(tensor(g, shapes[i], p.dtype())));
            }
        }
    }

    // ------------------------------------------------------------------ optimizers from PyTorch kwargs

    /** The optimizer a case describes, over {@code params}, built through the typed Options and group overrides. */
    static Optimizer optimizer(JsonNode c, List<Tensor> params) {
        List<ParamGroup> groups = new ArrayList<>();
        for (JsonNode g : c.get("groups")) {
            List<Tensor> ps = new ArrayList<>();
            for (JsonNode i : g.get("params")) {
                ps.add(params.get(i.asInt()));
            }
            ParamGroup group = ParamGroup.of(ps);
            for (Iterator<Map.Entry<String, JsonNode>> it = g.get("options").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode v = e.getValue();
                if (e.getKey().equals("betas")) {
                    group.set("beta1", v.get(0).asDouble()).set("beta2", v.get(1).asDouble());
                } else if (v.isBoolean()) {
                    group.set(e.getKey(), v.asBoolean());
                } else {
                    group.set(e.getKey(), v.asDouble());
                }
            }
            groups.add(group);
        }
        JsonNode d = c.get("defaults");
        String type = c.get("optimizer").asText();
        switch (type) {
            case "SGD": return new SGD(sgdOptions(d), groups);
            case "Adam": return new Adam(adamOptions(d), groups);
            case "AdamW": return new AdamW(adamOptions(d), groups);
            case "RMSprop": return new RMSprop(rmspropOptions(d), groups);
            default: throw new IllegalArgumentException("unknown optimizer " + type);
        }
    }

    static SGD.Options sgdOptions(JsonNode d) {
        SGD.Options o = new SGD.Options();
        for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "lr": o.lr(v.asDouble()); break;
                case "momentum": o.momentum(v.asDouble()); break;
                case "dampening": o.dampening(v.asDouble()); break;
                case "weight_decay": o.weightDecay(v.asDouble()); break;
                case "nesterov": o.nesterov(v.asBoolean()); break;
                case "maximize": o.maximize(v.asBoolean()); break;
                default: throw new IllegalArgumentException("unknown SGD option " + e.getKey());
            }
        }
        return o;
    }

    static Adam.Options adamOptions(JsonNode d) {
        Adam.Options o = new Adam.Options();
        for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "lr": o.lr(v.asDouble()); break;
                case "betas": o.betas(v.get(0).asDouble(), v.get(1).asDouble()); break;
                case "eps": o.eps(v.asDouble()); break;
                case "weight_decay": o.weightDecay(v.asDouble()); break;
                case "amsgrad": o.amsgrad(v.asBoolean()); break;
                case "maximize": o.maximize(v.asBoolean()); break;
                default: throw new IllegalArgumentException("unknown Adam option " + e.getKey());
            }
        }
        return o;
    }

    static RMSprop.Options rmspropOptions(JsonNode d) {
        RMSprop.Options o = new RMSprop.Options();
        for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "lr": o.lr(v.asDouble()); break;
                case "alpha": o.alpha(v.asDouble()); break;
                case "eps": o.eps(v.asDouble()); break;
                case "weight_decay": o.weightDecay(v.asDouble()); break;
                case "momentum": o.momentum(v.asDouble()); break;
                case "centered": o.centered(v.asBoolean()); break;
                case "maximize": o.maximize(v.asBoolean()); break;
                default: throw new IllegalArgumentException("unknown RMSprop option " + e.getKey());
            }
        }
        return o;
    }

    /** The schedule a spec describes, or null for a JSON null. */
    static LRScheduler schedule(JsonNode spec, Optimizer opt) {
        if (spec == null || spec.isNull()) {
            return null;
        }
        String type = spec.get("type").asText();
        switch (type) {
            case "StepLR":
                return new StepLR(opt, spec.get("step_size").asInt(), spec.get("gamma").asDouble());
            case "CosineAnnealingLR":
                return new CosineAnnealingLR(opt, spec.get("T_max").asInt(), spec.get("eta_min").asDouble());
            case "LinearLR":
                return new LinearLR(opt, spec.get("start_factor").asDouble(), spec.get("end_factor").asDouble(),
                        spec.get("total_iters").asInt());
            case "SequentialLR": {
                List<LRScheduler> subs = new ArrayList<>();
                for (JsonNode s : spec.get("schedulers")) {
                    subs.add(schedule(s, opt));
                }
                return new SequentialLR(opt, subs, ints(spec.get("milestones")));
            }
            default:
                throw new IllegalArgumentException("unknown schedule " + type);
        }
    }
}
