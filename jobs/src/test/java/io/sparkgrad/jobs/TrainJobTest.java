package io.sparkgrad.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import io.sparkgrad.jobs.JobsTestSupport.Result;
import io.sparkgrad.spark.ml.NeuralNetClassificationModel;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The train job's outputs, a JSON-specified conv net, the learning-rate schedule, and resuming from
 * checkpoints, on real Spark with real files.
 */
class TrainJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SparkSession spark;

    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    private static String data;

    @BeforeAll
    static void start() throws Exception {
        spark = JobsTestSupport.session("TrainJobTest");
        data = new Blobs(480, 6, 3, 11).writeCsv(shared.resolve("blobs.csv")).toString();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static Result train(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "train";
        System.arraycopy(args, 0, all, 1, args.length);
        all[all.length - 2] = "--progress";
        all[all.length - 1] = "lines";
        return JobsTestSupport.run(all);
    }

    @Test
    void writesModelWeightsMetricsCurveAndJob() throws Exception {
        Path out = tmp.resolve("run");
        Result r = train("--input", data, "--layers", "12,8", "--activation", "tanh", "--epochs", "3", "--batch", "40",
                "--lr", "0.02", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertEquals(List.of("curve.png", "job.json", "metrics.json", "model", "weights.safetensors"),
                JobsTestSupport.list(out).stream().filter(n -> !n.startsWith(".")).toList());
        assertTrue(r.out().matches("(?s).*model: +\\S*" + out + "/model\n.*"), r::toString);
        assertTrue(r.out().matches("(?s).*curve: +\\S*" + out + "/curve.png\n.*"), r::toString);
        assertTrue(r.out().matches("(?s)validation accuracy: \\d\\.\\d{4}\n.*"), r::toString);

        // The Spark ML model loads with Sparkgrad's own reader, and its weights are the safetensors file's.
        NeuralNetClassificationModel model = NeuralNetClassificationModel.load(out.resolve("model").toString());
        assertEquals(6, model.numFeatures());
        assertEquals(3, model.numClasses());
        assertArrayEquals(new int[] {12, 8}, model.getHiddenLayers());
        Map<String, Tensor> weights = SafeTensors.load(out.resolve("weights.safetensors")).tensors();
        assertEquals(model.stateDict().keySet(), weights.keySet());
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), weights.get(e.getKey()).toFloatArray(), e.getKey());
        }
        assertArrayEquals(new int[] {12, 6}, weights.get("0.weight").shape());

        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertEquals("classification", m.get("task").asText());
        assertEquals(3, m.get("epochs").size());
        for (int i = 0; i < 3; i++) {
            JsonNode e = m.get("epochs").get(i);
            assertEquals(i + 1, e.get("epoch").asInt());
            for (String k : List.of("train_loss", "val_loss", "val_accuracy", "rows_per_second", "seconds")) {
                assertTrue(e.get(k).isNumber() && e.get(k).asDouble() >= 0, k + " in " + e);
            }
            assertEquals(0.02, e.get("learning_rate").asDouble(), 1e-12);
        }
        assertTrue(m.get("epochs").get(2).get("train_loss").asDouble() < m.get("epochs").get(0).get("train_loss").asDouble());
        assertEquals(480, m.get("train_rows").asLong() + m.get("validation_rows").asLong());

        BufferedImage png = ImageIO.read(out.resolve("curve.png").toFile());
        assertEquals(2 * 640, png.getWidth(), "loss and accuracy charts side by side");
        assertEquals(420, png.getHeight());

        JsonNode job = JSON.readTree(out.resolve("job.json").toFile());
        assertEquals("csv", job.get("format").asText());
        assertTrue(job.get("features").get("assembled").asBoolean());
        assertEquals(List.of("f0", "f1", "f2", "f3", "f4", "f5"),
                JSON.convertValue(job.get("features").get("sources"), List.class));
        assertEquals("12,8", job.get("arguments").get("layers").asText());
    }

    @Test
    void trainsAJsonSpecifiedConvNetAndLoadsItForPrediction() throws Exception {
        // 4x4 single-channel "images": class 0 lights the left half, class 1 the right half.
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        StringBuilder csv = new StringBuilder();
        for (int j = 0; j < 16; j++) {
            csv.append('p').append(j).append(',');
        }
        csv.append("label\n");
        for (int i = 0; i < 320; i++) {
            int y = rnd.nextInt(2);
            for (int j = 0; j < 16; j++) {
                boolean lit = (j % 4 < 2) == (y == 0);
                csv.append(String.format(java.util.Locale.ROOT, "%.3f,", (lit ? 0.8 : 0.1) + 0.1 * rnd.nextDouble()));
            }
            csv.append(y).append('\n');
        }
        Path images = Files.writeString(tmp.resolve("images.csv"), csv.toString());
        Path spec = Files.writeString(tmp.resolve("net.json"), "{\"input\": [1, 4, 4], \"layers\": ["
                + "{\"type\": \"conv2d\", \"out_channels\": 4, \"kernel_size\": 3, \"padding\": 1},"
                + "{\"type\": \"relu\"}, {\"type\": \"maxpool2d\", \"kernel_size\": 2},"
                + "{\"type\": \"flatten\"}, {\"type\": \"linear\", \"out_features\": 2}]}");
        Path out = tmp.resolve("cnn");
        Result r = train("--input", images.toString(), "--model-spec", spec.toString(), "--epochs", "3", "--batch", "32",
                "--lr", "0.03", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(Files.exists(out.resolve("model/sparkgrad-model-spec.json")));
        Map<String, Tensor> w = SafeTensors.load(out.resolve("weights.safetensors")).tensors();
        assertArrayEquals(new int[] {4, 1, 3, 3}, w.get("1.weight").shape(), "nn.Sequential(Unflatten, Conv2d, ...) names");
        assertArrayEquals(new int[] {2, 16}, w.get("5.weight").shape());

        Result e = JobsTestSupport.run("evaluate", "--model", out.toString(), "--input", images.toString());
        assertEquals(0, e.code(), e::toString);
        double acc = Double.parseDouble(e.out().replaceAll("(?s).*test accuracy: (\\S+).*", "$1"));
        assertTrue(acc >= 0.95, e::toString);

        // Loading the bare model directory without its spec says how to load it.
        Exception ex = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> NeuralNetClassificationModel.load(out.resolve("model").toString()));
        assertTrue(String.valueOf(ex.getMessage()).contains("ModelDir.load"), String.valueOf(ex.getMessage()));
    }

    @Test
    void stepScheduleSetsEachEpochsLearningRate() throws Exception {
        Path out = tmp.resolve("sched");
        Result r = train("--input", data, "--layers", "8", "--epochs", "4", "--batch", "60", "--lr", "0.04",
                "--lr-schedule", "step", "--lr-step-epochs", "2", "--lr-gamma", "0.25", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        JsonNode epochs = JSON.readTree(out.resolve("metrics.json").toFile()).get("epochs");
        double[] lrs = new double[4];
        for (int i = 0; i < 4; i++) {
            lrs[i] = epochs.get(i).get("learning_rate").asDouble();
        }
        assertArrayEquals(new double[] {0.04, 0.04, 0.01, 0.01}, lrs, 1e-12);
        assertTrue(r.err().contains("lr 0.0100"), r::toString);
    }

    @Test
    void resumedRunEqualsAnUninterruptedOne() throws Exception {
        // A step schedule does not depend on the number of epochs, so a 2-epoch run is the first 2 epochs of a 3-epoch one.
        Path full = tmp.resolve("full");
        Result a = train("--input", data, "--layers", "8", "--epochs", "3", "--batch", "50", "--lr", "0.03",
                "--lr-schedule", "step", "--lr-gamma", "0.5", "--output", full.toString());
        assertEquals(0, a.code(), a::toString);

        Path ckpt = tmp.resolve("ckpt");
        Path part = tmp.resolve("part");
        Result b = train("--input", data, "--layers", "8", "--epochs", "2", "--batch", "50", "--lr", "0.03",
                "--lr-schedule", "step", "--lr-gamma", "0.5", "--checkpoint-dir", ckpt.toString(), "--output",
                part.toString());
        assertEquals(0, b.code(), b::toString);

        // Checkpoints of an earlier run are never continued silently.
        Path again = tmp.resolve("again");
        Result refused = train("--input", data, "--layers", "8", "--epochs", "3", "--batch", "50", "--checkpoint-dir",
                ckpt.toString(), "--output", again.toString());
        assertEquals(2, refused.code(), refused::toString);
        assertTrue(refused.err().contains("--checkpoint-dir") && refused.err().contains("--resume"), refused::toString);
        assertFalse(Files.exists(again));

        // Epoch 3, resumed (with its halved learning rate), is the uninterrupted run's epoch 3.
        Path resumed = tmp.resolve("resumed");
        Result c = train("--input", data, "--layers", "8", "--epochs", "3", "--batch", "50", "--lr", "0.03",
                "--lr-schedule", "step", "--lr-gamma", "0.5", "--checkpoint-dir", ckpt.toString(), "--resume",
                "--output", resumed.toString());
        assertEquals(0, c.code(), c::toString);
        assertTrue(c.err().contains("resuming"), c::toString);
        JsonNode m = JSON.readTree(resumed.resolve("metrics.json").toFile());
        assertTrue(m.get("resumed_from_step").asLong() > 0);
        assertEquals(3, m.get("epochs").size(), "the epochs before the resume come from the checkpoint directory");
        JsonNode fullEpochs = JSON.readTree(full.resolve("metrics.json").toFile()).get("epochs");
        for (int i = 0; i < 3; i++) {
            assertEquals(fullEpochs.get(i).get("train_loss").asDouble(), m.get("epochs").get(i).get("train_loss").asDouble(),
                    1e-6, "epoch " + (i + 1));
            assertEquals(fullEpochs.get(i).get("learning_rate").asDouble(),
                    m.get("epochs").get(i).get("learning_rate").asDouble(), 1e-15);
        }
        Map<String, Tensor> x = SafeTensors.load(full.resolve("weights.safetensors")).tensors();
        Map<String, Tensor> y = SafeTensors.load(resumed.resolve("weights.safetensors")).tensors();
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k).toFloatArray(), y.get(k).toFloatArray(), 1e-6f, k);
        }
    }

    @Test
    void aRunResumedInsideAnEpochTakesThatEpochsScheduledRate() throws Exception {
        // Synchronous steps (several per epoch), epoch 2 at half the rate of epoch 1.
        List<String> run = List.of("--input", data, "--layers", "8", "--epochs", "2", "--batch", "50", "--lr", "0.03",
                "--lr-schedule", "step", "--lr-gamma", "0.5", "--local-steps", "1", "--validation", "0");
        Path full = tmp.resolve("full2");
        Result a = train(with(run, "--output", full.toString()));
        assertEquals(0, a.code(), a::toString);

        // A run with a checkpoint after every step, "killed" one step before its end: the trainer keeps the two
        // newest checkpoints, and without the last one the newest is inside epoch 2.
        Path ckpt = tmp.resolve("ckpt-steps");
        Result b = train(with(run, "--checkpoint-dir", ckpt.toString(), "--checkpoint-interval", "1", "--output",
                tmp.resolve("killed").toString()));
        assertEquals(0, b.code(), b::toString);
        List<String> files = JobsTestSupport.list(ckpt).stream().filter(n -> n.matches("checkpoint-\\d+\\.safetensors"))
                .toList(); // sorted by name, and the step numbers have the same width
        assertEquals(2, files.size(), files::toString);
        Files.delete(ckpt.resolve(files.get(1)));
        long kept = Long.parseLong(files.get(0).replaceAll("\\D", ""));

        Path resumed = tmp.resolve("resumed-inside");
        Result c = train(with(run, "--checkpoint-dir", ckpt.toString(), "--checkpoint-interval", "1", "--resume",
                "--output", resumed.toString()));
        assertEquals(0, c.code(), c::toString);
        assertTrue(c.err().contains("at step " + kept + " (1 of 2 epochs done, continuing inside epoch 2)"),
                c::toString);
        JsonNode epochs = JSON.readTree(resumed.resolve("metrics.json").toFile()).get("epochs");
        assertEquals(0.015, epochs.get(1).get("learning_rate").asDouble(), 1e-15);
        // The last step at any other rate than epoch 2's would leave other weights.
        Map<String, Tensor> x = SafeTensors.load(full.resolve("weights.safetensors")).tensors();
        Map<String, Tensor> y = SafeTensors.load(resumed.resolve("weights.safetensors")).tensors();
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k).toFloatArray(), y.get(k).toFloatArray(), 1e-6f, k);
        }
    }

    private static String[] with(List<String> base, String... more) {
        List<String> all = new java.util.ArrayList<>(base);
        all.addAll(List.of(more));
        return all.toArray(new String[0]);
    }

    @Test
    void earlyStoppingKeepsTheBestEpoch() throws Exception {
        // Labels that are noise: the network can only overfit, so the validation loss soon stops improving.
        Blobs b = new Blobs(200, 6, 3, 12);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(99);
        for (int i = 0; i < b.n; i++) {
            b.y[i] = rnd.nextInt(3);
        }
        String noise = b.writeCsv(tmp.resolve("noise.csv")).toString();
        Path out = tmp.resolve("early");
        Result r = train("--input", noise, "--layers", "64", "--epochs", "40", "--batch", "20", "--lr", "0.05",
                "--validation", "0.25", "--early-stopping", "1", "--output", out.toString());
        assertEquals(0, r.code(), r::toString);
        JsonNode m = JSON.readTree(out.resolve("metrics.json").toFile());
        assertTrue(m.get("stopped_early").asBoolean(), r::toString);
        assertTrue(m.get("epochs").size() < 40);
        assertTrue(m.get("best_epoch").asInt() >= 1 && m.get("best_epoch").asInt() < m.get("epochs").size());
        assertTrue(r.err().contains("stopped early"), r::toString);
    }
}
