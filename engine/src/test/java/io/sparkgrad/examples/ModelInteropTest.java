package io.sparkgrad.examples;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.nn.IncompatibleKeys;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.nn.StateDictException;
import io.sparkgrad.optim.Optimizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Fashion-MNIST example's models move between PyTorch and Sparkgrad as state dicts in
 * safetensors files, and compute the same logits on both sides.
 *
 * <p>PyTorch to Sparkgrad runs everywhere: {@code scripts/torch_model_interop.py write-fixture}
 * wrote PyTorch's state dicts, an input batch and PyTorch's logits into
 * {@code src/test/resources/model-interop/}. Sparkgrad to PyTorch needs PyTorch: the test writes
 * Sparkgrad's files and runs the script's {@code verify} on them when Debian's
 * {@code /usr/bin/python3} can import torch, and is skipped, saying why, otherwise.
 */
class ModelInteropTest {
    private static final Path SCRIPT = Path.of("..", "scripts", "torch_model_interop.py");
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    /** Where the Sparkgrad-written files are left, so the script can be run on them by hand too. */
    static final Path WRITTEN = Path.of("target", "model-interop");
    /** The script's tolerance: float32 sums in another order agree to about 1e-6 relative. */
    private static final double RTOL = 1e-4;
    private static final double ATOL = 1e-4;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ModelInteropTest.class.getResource("/model-interop/" + name).toURI());
    }

    private static String name(FashionMnist.Arch arch) {
        return arch.name().toLowerCase(Locale.ROOT);
    }

    private static Tensor logits(Module model, Tensor x) {
        model.eval();
        try (var g = GradMode.noGrad()) {
            return model.apply(x);
        }
    }

    private static void assertClose(Tensor want, Tensor got, String what) {
        assertArrayEquals(want.shape(), got.shape(), what + ": shape");
        float[] w = want.toFloatArray();
        float[] g = got.toFloatArray();
        for (int i = 0; i < w.length; i++) {
            double bound = ATOL + RTOL * Math.abs(w[i]);
            if (!(Math.abs(w[i] - g[i]) <= bound)) {
                throw new AssertionError(what + ": logit " + i + " is " + g[i] + ", PyTorch computed " + w[i]);
            }
        }
        assertArrayEquals(want.argmax(1, false).toLongArray(), got.argmax(1, false).toLongArray(),
                what + ": predicted classes");
    }

    @ParameterizedTest
    @EnumSource(FashionMnist.Arch.class)
    void aStateDictPyTorchWroteLoadsStrictlyAndGivesPyTorchsLogits(FashionMnist.Arch arch) throws Exception {
        SafeTensors.Contents file = SafeTensors.load(resource("torch_" + name(arch) + ".safetensors"));
        assertEquals("fashion-mnist-" + name(arch), file.metadata().get("model"));
        Sequential model = arch.build(new Generator(99));
        assertEquals(new ArrayList<>(file.tensors().keySet()), new ArrayList<>(model.stateDict().keySet()),
                "PyTorch's key names, in PyTorch's order");
        IncompatibleKeys keys = model.loadStateDict(file.tensors(), true);
        assertTrue(keys.missingKeys().isEmpty() && keys.unexpectedKeys().isEmpty(), keys.toString());
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            assertArrayEquals(file.tensors().get(e.getKey()).toFloatArray(), e.getValue().toFloatArray(), e.getKey());
        }

        Map<String, Tensor> expected = SafeTensors.load(resource("torch_logits.safetensors")).tensors();
        Tensor x = expected.get("input");
        assertArrayEquals(new int[] {16, 1, 28, 28}, x.shape());
        assertClose(expected.get(name(arch) + ".logits"), logits(model, x), name(arch) + " loaded from PyTorch");
    }

    @Test
    void strictLoadingOfTheWrongModelNamesEveryKeyThatDoesNotFit() throws Exception {
        Map<String, Tensor> mlpState = SafeTensors.load(resource("torch_mlp.safetensors")).tensors();
        Sequential cnn = FashionMnist.cnn(new Generator(1));
        Map<String, Tensor> before = new LinkedHashMap<>();
        cnn.stateDict().forEach((k, v) -> before.put(k, v.clone()));
        StateDictException e = assertThrows(StateDictException.class, () -> cnn.loadStateDict(mlpState, true));
        for (String key : List.of("0.weight", "7.weight", "1.weight", "5.bias", "3.weight")) {
            assertTrue(e.getMessage().contains(key), "the message names " + key + ": " + e.getMessage());
        }
        for (Map.Entry<String, Tensor> p : cnn.stateDict().entrySet()) {
            assertTrue(p.getValue().valueEquals(before.get(p.getKey())), "nothing was written to " + p.getKey());
        }
    }

    /** A model that has taken a few SGD steps, so no tensor is at its initial value. */
    private static Sequential trainedALittle(FashionMnist.Arch arch, Generator g) {
        Sequential model = arch.build(g);
        FashionMnist.Config c = FashionMnist.Config.defaults(arch);
        Optimizer opt = FashionMnist.optimizer(c, model);
        for (int step = 0; step < 3; step++) {
            long[] labels = new long[8];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = g.nextInt(10);
            }
            Tensor loss = F.crossEntropy(model.apply(Tensor.randn(DType.FLOAT32, g, 8, 1, 28, 28)), Tensor.of(labels, 8));
            opt.zeroGrad();
            loss.backward();
            opt.step();
        }
        return model;
    }

    /**
     * Writes, for both models, the state dict (through {@link FashionMnist#save}, as the example's
     * {@code --save} does) and, in one more file, an input and Sparkgrad's logits for it.
     */
    private static Map<String, Tensor> writeSparkgradFiles() throws IOException {
        Files.createDirectories(WRITTEN);
        Generator g = new Generator(20240613);
        Map<String, Tensor> io = new LinkedHashMap<>();
        Tensor x = Tensor.randn(DType.FLOAT32, g, 16, 1, 28, 28);
        io.put("input", x);
        for (FashionMnist.Arch arch : FashionMnist.Arch.values()) {
            Sequential model = trainedALittle(arch, g);
            FashionMnist.save(model, arch, WRITTEN.resolve("sparkgrad_" + name(arch) + ".safetensors"));
            io.put(name(arch) + ".logits", logits(model, x));
        }
        SafeTensors.save(io, Map.of("format", "pt", "producer", "sparkgrad"), WRITTEN.resolve("sparkgrad_logits.safetensors"));
        return io;
    }

    @Test
    void theFilesSparkgradWritesLoadBackIntoSparkgradWithTheSameLogits() throws Exception {
        Map<String, Tensor> io = writeSparkgradFiles();
        for (FashionMnist.Arch arch : FashionMnist.Arch.values()) {
            SafeTensors.Contents file = SafeTensors.load(WRITTEN.resolve("sparkgrad_" + name(arch) + ".safetensors"));
            assertEquals(Map.of("format", "pt", "model", "fashion-mnist-" + name(arch)), file.metadata());
            Sequential fresh = arch.build(new Generator(5));
            fresh.loadStateDict(file.tensors(), true);
            Tensor again = logits(fresh, io.get("input"));
            assertArrayEquals(io.get(name(arch) + ".logits").toFloatArray(), again.toFloatArray(), name(arch));
        }
    }

    @Test
    void pyTorchLoadsSparkgradsModelsAndComputesTheSameLogits() throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), "the interop script belongs to the repository: " + SCRIPT.toAbsolutePath());
        assumeTrue(Files.isExecutable(PYTHON) && run(PYTHON.toString(), "-c", "import torch").exitCode == 0,
                "skipped: Debian's /usr/bin/python3 with python3-torch is not installed, so PyTorch cannot check "
                        + "Sparkgrad's model files (apt-get install python3-torch to run this direction)");
        writeSparkgradFiles();
        Result r = run(PYTHON.toString(), SCRIPT.toString(), "verify", WRITTEN.toString());
        assertEquals(0, r.exitCode, r.output);
        assertTrue(r.output.startsWith("OK: PyTorch"), r.output);
        assertTrue(r.output.contains("mlp (6 tensors") && r.output.contains("cnn (8 tensors"), r.output);
    }

    private record Result(int exitCode, String output) {
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out: " + String.join(" ", command));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
