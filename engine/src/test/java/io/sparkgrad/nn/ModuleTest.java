package io.sparkgrad.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;
import io.sparkgrad.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Module mechanics: registration, traversal, state dicts, modes, gradients, dtype conversion, printing. */
class ModuleTest {
    private static Sequential cnn(long seed) {
        Generator g = new Generator(seed);
        return new Sequential(
                new Conv2d(1, 2, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, true, g),
                new BatchNorm2d(2), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(2 * 2 * 2, 3, true, g));
    }

    @Test
    void stateDictKeysAreExactlyPyTorchs() {
        Map<String, Tensor> state = cnn(1).stateDict();
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                "1.num_batches_tracked", "5.weight", "5.bias"), List.copyOf(state.keySet()));
        Tensor count = state.get("1.num_batches_tracked");
        assertEquals(DType.INT64, count.dtype());
        assertEquals(0, count.dim());
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias"),
                List.copyOf(cnn(1).namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"),
                List.copyOf(cnn(1).namedBuffers().keySet()));
    }

    @Test
    void nestedNamesJoinWithDots() {
        Sequential inner = new Sequential().add("fc", new Linear(2, 2)).add("norm", new LayerNorm(2));
        Sequential outer = new Sequential().add("block", inner).add("head", new Linear(2, 1, false));
        assertEquals(List.of("block.fc.weight", "block.fc.bias", "block.norm.weight", "block.norm.bias", "head.weight"),
                List.copyOf(outer.stateDict().keySet()));
        assertEquals(List.of("", "block", "block.fc", "block.norm", "head"), List.copyOf(outer.namedModules().keySet()));
        assertEquals(List.of("block", "head"), List.copyOf(outer.namedChildren().keySet()));
        assertSame(inner, outer.children().get(0));
    }

    @Test
    void sharedParametersAreListedOnceButSavedUnderEveryName() {
        Linear shared = new Linear(3, 3);
        Sequential model = new Sequential(shared, new ReLU(), shared);
        assertEquals(2, model.parameters().size());
        assertEquals(List.of("0.weight", "0.bias"), List.copyOf(model.namedParameters().keySet()));
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), List.copyOf(model.stateDict().keySet()));
    }

    @Test
    void stateDictRoundTripReproducesTheModel() {
        Sequential a = cnn(1);
        Sequential b = cnn(2);
        Tensor x = Tensor.randn(DType.FLOAT32, new Generator(3), 2, 1, 4, 4);
        a.train();
        a.apply(x);                       // moves the running statistics away from their start
        a.eval();
        b.eval();
        assertFalse(a.apply(x).allClose(b.apply(x), 0, 1e-6));
        IncompatibleKeys result = b.loadStateDict(a.stateDict());
        assertTrue(result.isEmpty());
        assertTrue(a.apply(x).valueEquals(b.apply(x)));
        assertEquals(1, b.stateDict().get("1.num_batches_tracked").item());
    }

    @Test
    void stateDictSurvivesASafetensorsFile(@TempDir Path dir) throws IOException {
        Sequential a = cnn(1);
        a.apply(Tensor.randn(DType.FLOAT32, new Generator(3), 2, 1, 4, 4));
        Path file = dir.resolve("model.safetensors");
        SafeTensors.save(a.stateDict(), file);
        Sequential b = cnn(2);
        assertTrue(b.loadStateDict(SafeTensors.load(file).tensors()).isEmpty());
        for (Map.Entry<String, Tensor> e : a.stateDict().entrySet()) {
            Tensor loaded = b.stateDict().get(e.getKey());
            assertEquals(e.getValue().dtype(), loaded.dtype(), e.getKey());
            assertTrue(e.getValue().valueEquals(loaded), e.getKey());
        }
    }

    @Test
    void stateDictValuesShareStorageWithTheModel() {
        Linear fc = new Linear(2, 2);
        Tensor w = fc.stateDict().get("weight");
        assertFalse(w.requiresGrad());
        try (var g = GradMode.noGrad()) {
            fc.weight().fill_(7);
        }
        assertEquals(7, w.get(0, 0));
    }

    @Test
    void strictLoadingReportsEveryProblemTogetherAndWritesNothing() {
        Sequential model = cnn(1);
        Tensor before = model.stateDict().get("5.weight").clone();
        Map<String, Tensor> state = new LinkedHashMap<>(cnn(2).stateDict());
        state.remove("0.bias");
        state.remove("1.running_var");
        state.put("0.weight", Tensor.zeros(2, 1, 5, 5));
        state.put("1.bias", Tensor.zeros(3));
        state.put("extra.weight", Tensor.zeros(1));
        StateDictException e = assertThrows(StateDictException.class, () -> model.loadStateDict(state));
        assertEquals(List.of("0.bias", "1.running_var"), e.missingKeys());
        assertEquals(List.of("extra.weight"), e.unexpectedKeys());
        assertEquals(2, e.sizeMismatches().size());
        String msg = e.getMessage();
        assertTrue(msg.startsWith("Error(s) in loading state_dict for Sequential:"), msg);
        assertTrue(msg.contains("Missing key(s) in state_dict: \"0.bias\", \"1.running_var\"."), msg);
        assertTrue(msg.contains("Unexpected key(s) in state_dict: \"extra.weight\"."), msg);
        assertTrue(msg.contains("size mismatch for 0.weight: copying a param with shape [2, 1, 5, 5] from checkpoint, "
                + "the shape in current model is [2, 1, 3, 3]."), msg);
        assertTrue(msg.contains("size mismatch for 1.bias"), msg);
        assertTrue(before.valueEquals(model.stateDict().get("5.weight")), "a failed load must not write anything");
    }

    @Test
    void nonStrictLoadingReturnsTheKeysButStillRejectsShapes() {
        Sequential model = cnn(1);
        Map<String, Tensor> state = new LinkedHashMap<>(cnn(2).stateDict());
        state.remove("5.bias");
        state.put("head.weight", Tensor.zeros(1));
        IncompatibleKeys keys = model.loadStateDict(state, false);
        assertEquals(List.of("5.bias"), keys.missingKeys());
        assertEquals(List.of("head.weight"), keys.unexpectedKeys());
        assertTrue(model.stateDict().get("5.weight").valueEquals(state.get("5.weight")));
        state.put("5.weight", Tensor.zeros(3, 7));
        StateDictException e = assertThrows(StateDictException.class, () -> model.loadStateDict(state, false));
        assertTrue(e.missingKeys().isEmpty() && e.unexpectedKeys().isEmpty());
        assertEquals(1, e.sizeMismatches().size());
    }

    @Test
    void loadingConvertsDtypeAndKeepsParameterIdentity() {
        Linear fc = new Linear(2, 3);
        Parameter w = fc.weight();
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("weight", Tensor.ones(DType.FLOAT64, 3, 2));
        state.put("bias", Tensor.zeros(DType.FLOAT64, 3));
        fc.loadStateDict(state);
        assertSame(w, fc.weight());
        assertEquals(DType.FLOAT32, w.dtype());
        assertTrue(w.valueEquals(Tensor.ones(3, 2)));
        assertTrue(w.requiresGrad() && w.isLeaf());
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        Sequential model = new Sequential(new Sequential(new Dropout(0.5)), new BatchNorm1d(3));
        assertTrue(model.isTraining());
        model.eval();
        for (Module m : model.modules()) {
            assertFalse(m.isTraining(), m.toString());
        }
        model.train();
        for (Module m : model.modules()) {
            assertTrue(m.isTraining(), m.toString());
        }
    }

    @Test
    void zeroGradZeroesInPlace() {
        Linear fc = new Linear(3, 2);
        Tensor x = Tensor.ones(4, 3);
        fc.apply(x).sum().backward();
        Tensor grad = fc.weight().grad();
        assertFalse(grad.valueEquals(Tensor.zeros(2, 3)));
        fc.zeroGrad();
        assertSame(grad, fc.weight().grad(), "the gradient buffer is reused");
        assertTrue(grad.valueEquals(Tensor.zeros(2, 3)));
        fc.apply(x).sum().backward();
        assertSame(grad, fc.weight().grad());
        assertTrue(grad.valueEquals(Tensor.full(4, DType.FLOAT32, 2, 3)));
    }

    @Test
    void zeroGradDetachesAGradientThatCarriesAGraph() {
        Linear fc = new Linear(2, 1);
        fc.apply(Tensor.ones(1, 2)).pow(2).sum().backward(null, false, true);
        assertTrue(fc.weight().grad().requiresGrad());
        fc.zeroGrad();
        assertFalse(fc.weight().grad().requiresGrad());
        assertTrue(fc.weight().grad().valueEquals(Tensor.zeros(1, 2)));
    }

    @Test
    void toFloat64ConvertsParametersAndBuffersButNotTheCounter() {
        Linear shared = new Linear(2, 2);
        Sequential model = new Sequential(shared, new BatchNorm1d(2), shared);
        Tensor before = shared.weight().detach().clone();
        model.to(DType.FLOAT64);
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            DType expected = e.getKey().endsWith("num_batches_tracked") ? DType.INT64 : DType.FLOAT64;
            assertEquals(expected, e.getValue().dtype(), e.getKey());
        }
        assertSame(model.get(0), model.get(2));
        assertEquals(4, model.parameters().size(), "the shared layer stays shared");
        assertTrue(shared.weight().requiresGrad() && shared.weight().isLeaf());
        assertTrue(shared.weight().allClose(before.to(DType.FLOAT64), 0, 0));
        Tensor y = model.apply(Tensor.ones(DType.FLOAT64, 3, 2));
        assertEquals(DType.FLOAT64, y.dtype());
    }

    @Test
    void registrationRejectsBadAndRepeatedNames() {
        Sequential s = new Sequential(new ReLU());
        assertThrows(IllegalArgumentException.class, () -> s.add("0", new Tanh()));
        assertThrows(IllegalArgumentException.class, () -> s.add("a.b", new Tanh()));
        assertThrows(IllegalArgumentException.class, () -> s.add("", new Tanh()));
        assertThrows(IndexOutOfBoundsException.class, () -> s.get(1));
    }

    @Test
    void parameterSharesStorageAndRequiresGrad() {
        Tensor data = Tensor.of(1f, 2f);
        Parameter p = new Parameter(data);
        assertTrue(p.requiresGrad() && p.isLeaf());
        assertSame(data.storage(), p.storage());
        assertFalse(new Parameter(data, false).requiresGrad());
        assertEquals("Parameter containing:\ntensor([1., 2.], requires_grad=True)", p.toString());
        assertThrows(IllegalArgumentException.class, () -> new Parameter(Tensor.of(new long[] {1}, 1)));
    }

    @Test
    void printsLikePyTorch() {
        Sequential model = new Sequential(new Conv2d(1, 2, 3), new BatchNorm2d(2), new Flatten(), new Linear(2, 3));
        assertEquals("Sequential(\n"
                + "  (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n"
                + "  (1): BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
                + "  (2): Flatten(start_dim=1, end_dim=-1)\n"
                + "  (3): Linear(in_features=2, out_features=3, bias=True)\n"
                + ")", model.toString());
        assertEquals("ReLU()", new ReLU().toString());
        assertEquals("Dropout(p=0.5, inplace=False)", new Dropout().toString());
        assertEquals("LayerNorm((4,), eps=1e-05, elementwise_affine=True)", new LayerNorm(4).toString());
        assertEquals("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
                new MaxPool2d(2).toString());
        assertEquals("Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)",
                new Conv2d(3, 8, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, false, new Generator(0))
                        .toString());
        assertEquals("Embedding(10, 3, padding_idx=0)", new Embedding(10, 3, 0, new Generator(0)).toString());
    }

    @Test
    void lossesTakeTwoInputsAndSaveTheirWeights() {
        CrossEntropyLoss ce = new CrossEntropyLoss(Tensor.of(1f, 2f), F.IGNORE_INDEX,
                io.sparkgrad.functional.Reduction.MEAN, 0);
        assertEquals(List.of("weight"), List.copyOf(ce.stateDict().keySet()));
        assertThrows(UnsupportedOperationException.class, () -> ce.forward(Tensor.zeros(2, 2)));
        BCEWithLogitsLoss bce = new BCEWithLogitsLoss(null, io.sparkgrad.functional.Reduction.SUM, Tensor.of(3f));
        assertEquals(List.of("pos_weight"), List.copyOf(bce.stateDict().keySet()));
        assertTrue(new MSELoss().stateDict().isEmpty());
        Tensor loss = new MSELoss().apply(Tensor.of(1f, 3f), Tensor.of(0f, 0f));
        assertEquals(5.0, loss.item(), 1e-6);
        assertNull(new Linear(2, 2, false).bias());
        assertNotNull(ce.weight());
    }
}
