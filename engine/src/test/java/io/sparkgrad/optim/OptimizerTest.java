package io.sparkgrad.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** What the golden trajectories don't show: gradient zeroing, groups and options, views, state dicts, errors. */
class OptimizerTest {

    private static Tensor param(double... values) {
        return Tensor.of(values, values.length).requiresGrad_();
    }

    /** loss = sum(w * x), so dloss/dw = x. */
    private static void backward(Tensor w, double... x) {
        w.mul(Tensor.of(x, x.length)).sum().backward();
    }

    // ------------------------------------------------------------------ zeroGrad

    @Test
    void zeroGradZeroesInPlaceAndTheNextBackwardReusesTheBuffer() {
        Tensor w = param(1, 2, 3);
        SGD opt = new SGD(List.of(w), 0.1);
        backward(w, 1, 1, 1);
        Tensor buffer = w.grad();
        opt.zeroGrad();
        assertSame(buffer, w.grad(), "zeroGrad() keeps the gradient tensor");
        assertArrayEquals(new double[] {0, 0, 0}, w.grad().toDoubleArray());
        backward(w, 4, 5, 6);
        assertSame(buffer, w.grad(), "backward accumulates into the zeroed buffer");
        assertArrayEquals(new double[] {4, 5, 6}, w.grad().toDoubleArray());
    }

    @Test
    void zeroGradSetToNoneDropsGradientsAndStepThenSkipsTheParameter() {
        Tensor w = param(1, 2, 3);
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).momentum(0.9).weightDecay(0.1));
        backward(w, 1, 1, 1);
        opt.zeroGrad(true);
        assertNull(w.grad());
        opt.step();
        assertArrayEquals(new double[] {1, 2, 3}, w.toDoubleArray(), "no gradient, no update");
        assertNull(opt.state(w), "no gradient, no state");
    }

    @Test
    void aZeroedGradientIsStillAStepForMomentumAndWeightDecay() {
        Tensor w = param(1, 2, 3);
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).weightDecay(0.5));
        backward(w, 0, 0, 0);
        opt.zeroGrad();
        opt.step();
        assertArrayEquals(new double[] {0.95, 1.9, 2.85}, w.toDoubleArray(), 1e-15);
        assertEquals(1, opt.state(w).step());
    }

    @Test
    void zeroGradCutsAGradientThatCarriesAGraph() {
        Tensor w = param(1, 2);
        SGD opt = new SGD(List.of(w), 0.1);
        Tensor loss = w.pow(2).sum();
        loss.backward(null, false, true);
        assertNotNull(w.grad().gradFn(), "createGraph gives a differentiable gradient");
        opt.zeroGrad();
        assertNull(w.grad().gradFn());
        assertArrayEquals(new double[] {0, 0}, w.grad().toDoubleArray());
    }

    // ------------------------------------------------------------------ stepping

    @Test
    void stepWritesInPlaceBumpsTheVersionAndRecordsNothing() {
        Tensor w = param(1, 2, 3);
        double[] storage = w.storage().doubles();
        Adam opt = new Adam(List.of(w), 0.1);
        backward(w, 1, -1, 2);
        int version = w.version();
        opt.step();
        assertSame(storage, w.storage().doubles(), "updated in place");
        assertTrue(w.version() > version, "an in-place update moves the version counter");
        assertTrue(w.isLeaf() && w.requiresGrad() && w.gradFn() == null, "still a leaf");
        double eps = 1e-8;
        assertArrayEquals(new double[] {1 - 0.1 / (1 + eps), 2 + 0.1 / (1 + eps), 3 - 0.1 * 2 / (2 + eps)},
                w.toDoubleArray(), 1e-12, "Adam's first step is lr * g / (|g| + eps)");
    }

    @Test
    void aTrainingLoopWithBackwardConverges() {
        Tensor.manualSeed(7);
        Tensor x = Tensor.randn(64, 3).to(DType.FLOAT64);
        Tensor trueW = Tensor.of(new double[] {1.5, -2.0, 0.5}, 3, 1);
        Tensor y = x.matmul(trueW);
        Tensor w = Tensor.zeros(DType.FLOAT64, 3, 1).requiresGrad_();
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).momentum(0.9));
        double first = Double.NaN;
        double last = Double.NaN;
        for (int i = 0; i < 500; i++) {
            opt.zeroGrad();
            Tensor loss = x.matmul(w).sub(y).pow(2).mean();
            loss.backward();
            opt.step();
            last = loss.item();
            first = i == 0 ? last : first;
        }
        assertTrue(last < first * 1e-12, "loss fell from " + first + " to " + last);
        assertArrayEquals(trueW.toDoubleArray(), w.toDoubleArray(), 1e-6);
    }

    @Test
    void nnParametersAreOptimizedAndClipped() {
        Tensor.manualSeed(3);
        io.sparkgrad.nn.Linear layer = new io.sparkgrad.nn.Linear(4, 2);
        Tensor x = Tensor.randn(16, 4);
        Tensor y = Tensor.randn(16, 2);
        AdamW opt = new AdamW(layer.parameters(), 0.05);
        double first = io.sparkgrad.functional.F.mseLoss(layer.forward(x), y).item();
        for (int i = 0; i < 100; i++) {
            opt.zeroGrad();
            io.sparkgrad.functional.F.mseLoss(layer.forward(x), y).backward();
            ClipGrad.clipGradNorm_(layer.parameters(), 1.0);
            opt.step();
        }
        double last = io.sparkgrad.functional.F.mseLoss(layer.forward(x), y).item();
        assertTrue(last < first, "loss fell from " + first + " to " + last);
        assertEquals(2, opt.stateDict().tensors().keySet().stream().filter(k -> k.endsWith(".step")).count());
    }

    @Test
    void stepWithClosureEvaluatesTheLossWithGradEnabled() {
        Tensor w = param(3);
        SGD opt = new SGD(List.of(w), 0.25);
        Tensor loss;
        try (var g = io.sparkgrad.autograd.GradMode.noGrad()) {
            loss = opt.step(() -> {
                opt.zeroGrad();
                Tensor l = w.pow(2).sum();
                l.backward();
                return l;
            });
        }
        assertEquals(9.0, loss.item());
        assertArrayEquals(new double[] {1.5}, w.toDoubleArray(), "w - 0.25 * 2w");
    }

    @Test
    void aNonContiguousParameterIsUpdatedThroughItsView() {
        Tensor base = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor view = base.t().requiresGrad_();                  // shape [3, 2], strides [1, 3]
        Tensor copy = Tensor.of(view.toDoubleArray(), 3, 2).requiresGrad_();
        Tensor g = Tensor.of(new double[] {0.5, -1, 2, 0.25, -0.75, 1}, 3, 2);
        Optimizer a = new RMSprop(List.of(view), new RMSprop.Options().momentum(0.5).centered(true));
        Optimizer b = new RMSprop(List.of(copy), new RMSprop.Options().momentum(0.5).centered(true));
        for (int i = 0; i < 3; i++) {
            view.setGrad(g);
            copy.setGrad(g);
            a.step();
            b.step();
        }
        assertArrayEquals(copy.toDoubleArray(), view.toDoubleArray(), "same bits through a strided view");
        assertArrayEquals(copy.t().toDoubleArray(), base.toDoubleArray(), "and written into the viewed storage");
    }

    @Test
    void groupOptionsCanBeChangedBetweenSteps() {
        Tensor w = param(1);
        SGD opt = new SGD(List.of(w), 0.5);
        w.setGrad(Tensor.of(new double[] {1}, 1));
        opt.step();
        opt.paramGroups().get(0).setLr(0.25);
        opt.step();
        assertArrayEquals(new double[] {0.25}, w.toDoubleArray());
    }

    // ------------------------------------------------------------------ groups and options

    @Test
    void groupsTakeTheirOwnOptionsAndTheRestFromTheDefaults() {
        Tensor a = param(1);
        Tensor b = param(1);
        Adam opt = new Adam(new Adam.Options().lr(0.01).amsgrad(true),
                List.of(ParamGroup.of(List.of(a)), ParamGroup.of(List.of(b)).set("lr", 0.5).set("beta1", 0.8)));
        ParamGroup g0 = opt.paramGroups().get(0);
        ParamGroup g1 = opt.paramGroups().get(1);
        assertEquals(0.01, g0.lr());
        assertEquals(0.5, g1.lr());
        assertEquals(0.9, g0.getDouble("beta1"));
        assertEquals(0.8, g1.getDouble("beta1"));
        assertTrue(g1.getBoolean("amsgrad"));
        assertEquals(0.999, g1.getDouble("beta2"));
    }

    @Test
    void adamwDecaysByDefaultAndAdamDoesNot() {
        assertEquals(0.01, new AdamW(List.of(param(1)), 1e-3).paramGroups().get(0).getDouble("weight_decay"));
        assertEquals(0.0, new Adam(List.of(param(1)), 1e-3).paramGroups().get(0).getDouble("weight_decay"));
        assertEquals(0.01, new AdamW(List.of(param(1)), new Adam.Options()).paramGroups().get(0).getDouble("weight_decay"),
                "Adam.Options carries only what was set, so AdamW's default applies");
    }

    @Test
    void addParamGroupAppendsAGroup() {
        Tensor a = param(1);
        Tensor b = param(2);
        SGD opt = new SGD(List.of(a), 0.1);
        opt.addParamGroup(ParamGroup.of(List.of(b)).set("momentum", 0.9));
        assertEquals(2, opt.paramGroups().size());
        assertEquals(0.1, opt.paramGroups().get(1).lr());
        assertEquals(0.9, opt.paramGroups().get(1).getDouble("momentum"));
    }

    @Test
    void badOptionsAndParametersAreRefusedWithTheirName() {
        Tensor w = param(1);
        assertMessage("no option \"lrr\"", () -> new SGD(new SGD.Options().lr(0.1),
                List.of(ParamGroup.of(List.of(w)).set("lrr", 0.1))));
        assertMessage("\"nesterov\"", () -> new SGD(new SGD.Options().lr(0.1),
                List.of(ParamGroup.of(List.of(w)).set("nesterov", 1.0))));
        assertMessage("needs a learning rate", () -> new SGD(List.of(w), new SGD.Options()));
        assertMessage("Invalid lr", () -> new SGD(List.of(w), -0.1));
        assertMessage("Nesterov momentum requires", () -> new SGD(List.of(w), new SGD.Options().lr(0.1).nesterov(true)));
        assertMessage("Invalid beta1", () -> new Adam(List.of(w), new Adam.Options().betas(1.0, 0.9)));
        assertMessage("Invalid eps", () -> new RMSprop(List.of(w), new RMSprop.Options().eps(-1)));
        assertMessage("empty parameter list", () -> new Adam(List.of(), 0.1));
        assertMessage("more than once", () -> new Adam(List.of(w, w), 0.1));
        assertMessage("more than once", () -> new Adam(new Adam.Options(),
                List.of(ParamGroup.of(List.of(w)), ParamGroup.of(List.of(w)))));
        assertMessage("non-leaf", () -> new Adam(List.of(w.mul(2.0)), 0.1));
        assertMessage("float32 or float64", () -> new Adam(List.of(Tensor.of(new long[] {1}, 1)), 0.1));
    }

    // ------------------------------------------------------------------ state dicts

    @Test
    void stateDictLayout() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad_();
        Tensor b = Tensor.of(new float[] {5}, 1).requiresGrad_();
        Tensor c = Tensor.of(new float[] {6}, 1).requiresGrad_();
        Adam opt = new Adam(new Adam.Options().lr(0.1).amsgrad(true),
                List.of(ParamGroup.of(List.of(a, b)), ParamGroup.of(List.of(c)).set("lr", 0.02)));
        a.setGrad(Tensor.ones(2, 2));
        c.setGrad(Tensor.ones(1));
        opt.step();
        opt.step();
        StateDict sd = opt.stateDict();
        assertEquals(List.of("state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq", "state.0.step",
                "state.2.exp_avg", "state.2.exp_avg_sq", "state.2.max_exp_avg_sq", "state.2.step"),
                List.copyOf(sd.tensors().keySet()), "parameter 1 had no gradient, so no state");
        Tensor step = sd.tensors().get("state.0.step");
        assertEquals(DType.INT64, step.dtype());
        assertEquals(0, step.dim());
        assertEquals(2, step.item());
        assertEquals(DType.FLOAT32, sd.tensors().get("state.0.exp_avg").dtype());
        assertArrayEquals(new int[] {2, 2}, sd.tensors().get("state.0.exp_avg").shape());
        Map<String, String> m = sd.metadata();
        assertEquals("Adam", m.get("optimizer"));
        assertEquals("2", m.get("param_groups"));
        assertEquals("0,1", m.get("param_groups.0.params"));
        assertEquals("2", m.get("param_groups.1.params"));
        assertEquals("0.1", m.get("param_groups.0.lr"));
        assertEquals("0.02", m.get("param_groups.1.lr"));
        assertEquals("1.0E-8", m.get("param_groups.0.eps"));
        assertEquals("true", m.get("param_groups.1.amsgrad"));
    }

    @Test
    void stateDictIsASnapshot() {
        Tensor w = param(1, 2);
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).momentum(0.9));
        w.setGrad(Tensor.of(new double[] {1, 1}, 2));
        opt.step();
        StateDict sd = opt.stateDict();
        opt.step();
        assertArrayEquals(new double[] {1, 1}, sd.tensors().get("state.0.momentum_buffer").toDoubleArray());
        assertEquals(1, sd.tensors().get("state.0.step").item());
    }

    @Test
    void loadingRestoresOptionsAndCopiesBuffers() {
        Tensor w = param(1, 2);
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).momentum(0.9));
        w.setGrad(Tensor.of(new double[] {1, 1}, 2));
        opt.step();
        StateDict sd = opt.stateDict();
        Tensor w2 = param(1, 2);
        SGD opt2 = new SGD(List.of(w2), new SGD.Options().lr(0.5));
        opt2.loadStateDict(sd);
        assertEquals(0.1, opt2.paramGroups().get(0).lr());
        assertEquals(0.9, opt2.paramGroups().get(0).getDouble("momentum"));
        Tensor buf = opt2.state(w2).buffer("momentum_buffer");
        assertNotEquals(System.identityHashCode(sd.tensors().get("state.0.momentum_buffer")),
                System.identityHashCode(buf));
        w2.setGrad(Tensor.of(new double[] {0, 0}, 2));
        opt2.step();
        assertArrayEquals(new double[] {1, 1}, sd.tensors().get("state.0.momentum_buffer").toDoubleArray(),
                "stepping the loaded optimizer leaves the state dict alone");
    }

    @Test
    void loadingConvertsBuffersToTheParameterDtype() {
        Tensor w = param(1, 2);
        Adam opt = new Adam(List.of(w), 0.1);
        w.setGrad(Tensor.of(new double[] {0.5, 1}, 2));
        opt.step();
        Tensor f = Tensor.of(new float[] {1, 2}).requiresGrad_();
        Adam opt32 = new Adam(List.of(f), 0.1);
        opt32.loadStateDict(opt.stateDict());
        assertEquals(DType.FLOAT32, opt32.state(f).buffer("exp_avg").dtype());
    }

    @Test
    void badStateDictsAreRefusedAndLeaveTheOptimizerAsItWas() {
        Tensor w = param(1, 2);
        Adam opt = new Adam(List.of(w), 0.1);
        w.setGrad(Tensor.of(new double[] {1, 1}, 2));
        opt.step();
        StateDict good = opt.stateDict();

        Tensor v = param(3, 4);
        Adam fresh = new Adam(List.of(v), 0.3);
        assertMessage("for optimizer Adam, not SGD", () -> new SGD(List.of(param(1, 2)), 0.1).loadStateDict(good));
        assertMessage("1 parameter groups but Adam has 2", () -> {
            Adam two = new Adam(new Adam.Options(), List.of(ParamGroup.of(List.of(param(1, 2))),
                    ParamGroup.of(List.of(param(1))))); two.loadStateDict(good); });
        assertMessage("state.0.exp_avg has shape [3]", () -> fresh.loadStateDict(replaceTensor(good,
                "state.0.exp_avg", Tensor.zeros(DType.FLOAT64, 3))));
        assertMessage("unexpected tensor in the state dict: state.0.momentum", () -> fresh.loadStateDict(
                replaceTensor(good, "state.0.momentum", Tensor.zeros(DType.FLOAT64, 2))));
        assertMessage("unexpected tensor in the state dict: state.5.exp_avg", () -> fresh.loadStateDict(
                replaceTensor(good, "state.5.exp_avg", Tensor.zeros(DType.FLOAT64, 2))));
        assertMessage("state.0.step must be a non-negative int64 scalar", () -> fresh.loadStateDict(
                replaceTensor(good, "state.0.step", Tensor.scalar(1.0))));
        assertMessage("param_groups.0.lr = \"fast\"", () -> fresh.loadStateDict(replaceMeta(good,
                "param_groups.0.lr", "fast")));
        assertMessage("Invalid lr", () -> fresh.loadStateDict(replaceMeta(good, "param_groups.0.lr", "-1.0")));
        assertMessage("no option \"momentum\"", () -> fresh.loadStateDict(replaceMeta(good,
                "param_groups.0.momentum", "0.9")));
        assertMessage("unexpected metadata key in the state dict: format", () -> fresh.loadStateDict(replaceMeta(good,
                "format", "pt")));
        assertMessage("lists 2 parameters but group 0 has 1", () -> fresh.loadStateDict(replaceMeta(good,
                "param_groups.0.params", "0,1")));

        assertEquals(0.3, fresh.paramGroups().get(0).lr(), "failed loads changed nothing");
        assertNull(fresh.state(v));
        fresh.loadStateDict(good);
        assertEquals(0.1, fresh.paramGroups().get(0).lr());
        assertEquals(1, fresh.state(v).step());
    }

    @Test
    void prefixesLetOneFileHoldSeveralStateDicts() {
        Tensor w = param(1, 2);
        SGD opt = new SGD(List.of(w), new SGD.Options().lr(0.1).momentum(0.9));
        w.setGrad(Tensor.of(new double[] {1, 1}, 2));
        opt.step();
        StateDict prefixed = opt.stateDict().withPrefix("optimizer.");
        Map<String, Tensor> tensors = new HashMap<>(prefixed.tensors());
        tensors.put("fc.weight", w);
        Map<String, String> meta = new HashMap<>(prefixed.metadata());
        meta.put("format", "pt");
        StateDict back = StateDict.select(tensors, meta, "optimizer.");
        assertEquals(opt.stateDict().metadata(), back.metadata());
        assertEquals(opt.stateDict().tensors().keySet(), back.tensors().keySet());
    }

    private static StateDict replaceTensor(StateDict sd, String key, Tensor t) {
        Map<String, Tensor> m = new HashMap<>(sd.tensors());
        m.put(key, t);
        return new StateDict(m, sd.metadata());
    }

    private static StateDict replaceMeta(StateDict sd, String key, String value) {
        Map<String, String> m = new HashMap<>(sd.metadata());
        m.put(key, value);
        return new StateDict(sd.tensors(), m);
    }

    static void assertMessage(String part, org.junit.jupiter.api.function.Executable body) {
        Exception e = assertThrows(IllegalArgumentException.class, body);
        assertTrue(e.getMessage().contains(part), "message \"" + e.getMessage() + "\" should contain \"" + part + "\"");
    }
}
