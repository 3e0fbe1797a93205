package io.sparkgrad.examples;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.nn.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Fashion-MNIST example, kept short: options, its output (progress, one line per epoch, the
 * final {@code test accuracy: 0.xxxx}), learning on a synthetic task everywhere, and a smoke run
 * on a few hundred real images when Debian's {@code dataset-fashion-mnist} is installed. The full
 * runs (10 and 5 epochs on all 60,000 images) are {@code scripts/fmnist-local.sh}'s, not the tests'.
 */
class FashionMnistExampleTest {
    private static final Pattern EPOCH_LINE = Pattern.compile(
            "epoch \\d+/\\d+  loss \\d+\\.\\d{4}  test accuracy [01]\\.\\d{4}  time \\d+\\.\\d{2} s  \\d+ samples/s");
    private static final Pattern LAST_LINE = Pattern.compile("test accuracy: [01]\\.\\d{4}");

    @Test
    void defaultsAreTheDocumentedOnes() {
        FashionMnist.Config mlp = FashionMnist.Config.parse("mlp");
        assertEquals(FashionMnist.Arch.MLP, mlp.arch);
        assertEquals(10, mlp.epochs);
        assertEquals(128, mlp.batch);
        assertEquals(0.1, mlp.lr);
        assertEquals(0.9, mlp.momentum);
        assertEquals("sgd", mlp.optimizer);
        assertEquals("cosine", mlp.schedule);
        FashionMnist.Config cnn = FashionMnist.Config.parse("CNN");
        assertEquals(5, cnn.epochs);
        assertEquals(0.05, cnn.lr);
        FashionMnist.Config adam = FashionMnist.Config.parse("mlp", "--optimizer", "adam", "--epochs", "2",
                "--train-limit", "100", "--schedule", "none", "--progress", "none");
        assertEquals(1e-3, adam.lr);
        assertEquals(2, adam.epochs);
        assertEquals(100, adam.trainLimit);
        assertEquals("none", adam.schedule);
        assertEquals(FashionMnistProgress.Mode.NONE, adam.progress);
        assertEquals(0.5, FashionMnist.Config.parse("mlp", "--optimizer", "adam", "--lr", "0.5").lr);
    }

    @Test
    void badOptionsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, FashionMnist.Config::parse).getMessage().startsWith("usage:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("rnn"))
                .getMessage().contains("mlp or cnn, got rnn"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--epochs"))
                .getMessage().contains("--epochs needs a value"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--lr", "fast"))
                .getMessage().contains("--lr: not a number: fast"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--batch", "0"))
                .getMessage().contains("--batch must be at least 1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--bogus", "1"))
                .getMessage().contains("unknown option --bogus"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--schedule", "step"))
                .getMessage().contains("--schedule must be cosine or none"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FashionMnist.Config.parse("mlp", "--progress", "bar"))
                .getMessage().contains("--progress must be auto, tty, lines or none"));
    }

    @Test
    void missingDataNamesTheDebianPackage(@TempDir Path empty) {
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(empty, "train", 0));
        assertTrue(e.getMessage().contains("dataset-fashion-mnist") && e.getMessage().contains(empty.toString()),
                e.getMessage());
    }

    /**
     * Images of noise in which class {@code k} lights up rows {@code 2k, 2k+1}: easy to learn, so a
     * few epochs on 320 images must get it nearly all right.
     */
    private static FashionMnist.Split stripes(int n, Generator g) {
        float[] noise = Tensor.randn(DType.FLOAT32, g, n, 1, 28, 28).toFloatArray();
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = g.nextInt(10);
            for (int r = 2 * (int) labels[i]; r < 2 * labels[i] + 2; r++) {
                for (int c = 0; c < 28; c++) {
                    noise[i * 784 + r * 28 + c] += 2f;
                }
            }
        }
        return new FashionMnist.Split(Tensor.of(noise, n, 1, 28, 28), Tensor.of(labels, n));
    }

    private static String train(FashionMnist.Config c, FashionMnist.Split train, FashionMnist.Split test,
                                FashionMnist.Result[] result) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            result[0] = FashionMnist.train(c, train, test, out);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void bothModelsLearnASyntheticTaskAndSayHowItWent() {
        Generator g = new Generator(3);
        FashionMnist.Split train = stripes(320, g);
        FashionMnist.Split test = stripes(200, g);
        for (FashionMnist.Arch arch : FashionMnist.Arch.values()) {
            FashionMnist.Config c = FashionMnist.Config.defaults(arch);
            c.epochs = 3;
            c.batch = 32;
            c.progress = FashionMnistProgress.Mode.LINES;
            FashionMnist.Result[] result = new FashionMnist.Result[1];
            String output = train(c, train, test, result);
            List<String> lines = output.lines().toList();
            assertEquals(3, lines.stream().filter(l -> EPOCH_LINE.matcher(l).matches()).count(), output);
            // A plain progress line at each quarter of every epoch (10 batches: after 3, 5 and 8).
            assertEquals(9, lines.stream().filter(l -> l.matches("epoch \\d/3 +\\d+%  batch \\d+/10  loss .*")).count(), output);
            assertFalse(output.contains("\r"), "no carriage returns outside a terminal");
            assertEquals(3, result[0].epochs().size());
            assertTrue(result[0].finalAccuracy() >= 0.95, arch + ": " + output);
            assertTrue(result[0].epochs().get(2).meanLoss() < result[0].epochs().get(0).meanLoss(), output);
        }
    }

    @Test
    void onATerminalTheProgressLineIsRewrittenInPlace() {
        Generator g = new Generator(4);
        FashionMnist.Config c = FashionMnist.Config.defaults(FashionMnist.Arch.MLP);
        c.epochs = 1;
        c.batch = 16;
        c.progress = FashionMnistProgress.Mode.TTY;
        String output = train(c, stripes(64, g), stripes(32, g), new FashionMnist.Result[1]);
        assertTrue(output.contains("\repoch 1/1  ["), output);
        String[] lines = output.split("\n");
        // The in-place line is wiped (spaces, then a carriage return) before the epoch's summary.
        String summary = lines[lines.length - 1];
        String afterWipe = summary.substring(summary.lastIndexOf('\r') + 1);
        assertTrue(EPOCH_LINE.matcher(afterWipe).matches(), summary);
        assertTrue(summary.substring(0, summary.lastIndexOf('\r')).matches("(?s).*\r *"), summary);
    }

    @Test
    void aShortRunOnRealFashionMnistEndsWithTheAccuracyLineAndSavesAModel(@TempDir Path dir) throws IOException {
        assumeTrue(Files.isRegularFile(FashionMnist.DEFAULT_DATA.resolve("train-images-idx3-ubyte.gz")),
                "skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        for (FashionMnist.Arch arch : FashionMnist.Arch.values()) {
            Path saved = dir.resolve(arch + ".safetensors");
            FashionMnist.Config c = FashionMnist.Config.parse(arch.name(), "--epochs", "1", "--batch", "32",
                    "--train-limit", "384", "--test-limit", "300", "--progress", "lines", "--save", saved.toString());
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            FashionMnist.Result r;
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                r = FashionMnist.run(c, out);
            }
            String output = bytes.toString(StandardCharsets.UTF_8);
            List<String> lines = output.lines().toList();
            assertTrue(lines.get(0).startsWith("Fashion-MNIST " + arch.name().toLowerCase() + ": "), output);
            assertTrue(lines.get(0).endsWith("; 384 training and 300 test images"), output);
            assertTrue(EPOCH_LINE.matcher(lines.get(lines.size() - 3)).matches(), output);
            assertEquals("saved the model's state dict to " + saved, lines.get(lines.size() - 2));
            String last = lines.get(lines.size() - 1);
            assertTrue(LAST_LINE.matcher(last).matches(), output);
            assertEquals(String.format(java.util.Locale.ROOT, "test accuracy: %.4f", r.finalAccuracy()), last);
            assertTrue(r.finalAccuracy() > 0.3, "well above chance (0.1) after 12 steps: " + output);

            FashionMnist.Split test = FashionMnist.load(FashionMnist.DEFAULT_DATA, "t10k", 300);
            assertArrayEquals(new int[] {300, 1, 28, 28}, test.images().shape());
            Sequential again = arch.build(new Generator(77));
            again.loadStateDict(SafeTensors.load(saved).tensors(), true);
            assertEquals(r.finalAccuracy(), FashionMnist.accuracy(again, test), "the saved model scores the same");
            assertEquals(Arrays.asList(r.model().stateDict().keySet().toArray()),
                    Arrays.asList(SafeTensors.load(saved).tensors().keySet().toArray()));
        }
    }
}
