package io.sparkgrad.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.jobs.data.BadInputException;
import io.sparkgrad.jobs.model.SpecNetwork;
import io.sparkgrad.spark.ml.NeuralNetClassificationModel;
import io.sparkgrad.spark.ml.NeuralNetModel;
import io.sparkgrad.spark.ml.NeuralNetRegressionModel;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The train job's output directory and loading a model from it.
 *
 * <pre>
 * OUTPUT/
 *   model/                 the Spark ML model (NeuralNetClassificationModel or NeuralNetRegressionModel):
 *                          metadata/, data/weights.safetensors, and for a JSON-specified network
 *                          sparkgrad-model-spec.json
 *   weights.safetensors    the network's state dict under PyTorch's names
 *   metrics.json           per-epoch loss, validation loss and accuracy (or RMSE), rows/s, time, learning rate
 *   curve.png              the loss and accuracy curves
 *   job.json               the arguments, the input format and the feature columns the model reads
 * </pre>
 */
public final class ModelDir {
    public static final String MODEL = "model";
    public static final String WEIGHTS = "weights.safetensors";
    public static final String METRICS = "metrics.json";
    public static final String CURVE = "curve.png";
    public static final String JOB = "job.json";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest {@code job.json} read, in bytes. */
    private static final int MAX_JOB_BYTES = 1 << 20;

    private ModelDir() {
    }

    /**
     * A loaded model and what the train job recorded about it.
     *
     * @param model the Spark ML model
     * @param job   the train job's {@code job.json}, or null for a bare model directory
     * @param path  the model directory
     */
    public record Loaded(NeuralNetModel<?> model, JsonNode job, Path path) {
        public boolean isClassifier() {
            return model instanceof NeuralNetClassificationModel;
        }
    }

    /**
     * Loads the model of a train job's output directory, or a bare Spark ML model directory written
     * by a Sparkgrad estimator.
     *
     * @throws BadInputException when {@code path} is neither, or the model cannot be read
     */
    public static Loaded load(SparkSession spark, String path) {
        Configuration conf = spark.sessionState().newHadoopConf();
        Path root = new Path(path);
        try {
            FileSystem fs = root.getFileSystem(conf);
            if (!fs.exists(root)) {
                throw new BadInputException("--model: " + path + " does not exist");
            }
            Path modelPath;
            Path jobFile;
            if (fs.exists(new Path(root, MODEL + "/metadata"))) {
                modelPath = new Path(root, MODEL);
                jobFile = new Path(root, JOB);
            } else if (fs.exists(new Path(root, "metadata"))) {
                modelPath = root;
                jobFile = root.getParent() == null ? null : new Path(root.getParent(), JOB);
            } else {
                throw new BadInputException("--model: " + path + " is neither a train job's output directory (with "
                        + MODEL + "/) nor a Spark ML model directory (with metadata/)");
            }
            String cls = modelClass(fs, new Path(modelPath, "metadata"));
            Path specFile = new Path(modelPath, SpecNetwork.SPEC_FILE);
            String spec = fs.exists(specFile)
                    ? Common.readText(conf, specFile.toString(), io.sparkgrad.jobs.model.ModelSpec.MAX_BYTES, "--model")
                    : null;
            String m = modelPath.toString();
            NeuralNetModel<?> model;
            if (cls.equals(NeuralNetClassificationModel.class.getName())) {
                model = spec == null ? NeuralNetClassificationModel.load(m)
                        : SpecNetwork.loading(spec, () -> NeuralNetClassificationModel.load(m));
            } else if (cls.equals(NeuralNetRegressionModel.class.getName())) {
                model = spec == null ? NeuralNetRegressionModel.load(m)
                        : SpecNetwork.loading(spec, () -> NeuralNetRegressionModel.load(m));
            } else {
                throw new BadInputException("--model: " + modelPath + " holds a " + cls + "; expected a Sparkgrad "
                        + "NeuralNetClassificationModel or NeuralNetRegressionModel");
            }
            JsonNode job = null;
            if (jobFile != null && fs.exists(jobFile)) {
                String text = Common.readText(conf, jobFile.toString(), MAX_JOB_BYTES, "--model");
                try {
                    job = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    throw new BadInputException("--model: " + jobFile + " is not valid JSON: " + firstLine(e), e);
                }
                checkJob(job, jobFile);
            }
            return new Loaded(model, job, modelPath);
        } catch (IOException e) {
            throw new BadInputException("--model: cannot read " + path + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new BadInputException("--model: cannot load " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The {@code class} field of Spark ML metadata (a text file of one JSON line in {@code metadata/}),
     * reading at most {@link NeuralNetModel#MAX_METADATA_BYTES} of each file.
     */
    private static String modelClass(FileSystem fs, Path metadata) throws IOException {
        FileStatus[] parts = fs.listStatus(metadata, p -> p.getName().startsWith("part-"));
        Arrays.sort(parts, Comparator.comparing(s -> s.getPath().getName()));
        for (FileStatus part : parts) {
            byte[] head;
            try (FSDataInputStream in = fs.open(part.getPath())) {
                head = in.readNBytes(NeuralNetModel.MAX_METADATA_BYTES + 1);
            }
            int end = 0;
            while (end < head.length && head[end] != '\n') {
                end++;
            }
            if (end > NeuralNetModel.MAX_METADATA_BYTES) {
                throw new BadInputException("--model: " + part.getPath() + ": its first line is longer than "
                        + NeuralNetModel.MAX_METADATA_BYTES + " bytes; a model's metadata is one short JSON line");
            }
            String line = new String(head, 0, end, StandardCharsets.UTF_8);
            if (!line.isBlank()) {
                JsonNode cls;
                try {
                    cls = JSON.readTree(line).get("class");
                } catch (JsonProcessingException e) {
                    throw new BadInputException("--model: " + part.getPath() + " is not Spark ML metadata (one JSON "
                            + "object per line): " + firstLine(e), e);
                }
                if (cls != null && cls.isTextual()) {
                    return cls.asText();
                }
            }
        }
        throw new BadInputException("--model: " + metadata + " holds no Spark ML metadata with a class name");
    }

    /** Jackson's own words, first line only and cut short: they may quote the file. */
    private static String firstLine(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage()).split("[\\r\\n]", 2)[0];
        return m.length() <= 120 ? m : m.substring(0, 120) + "…";
    }

    /**
     * Checks the fields of {@code job.json} that evaluate and predict read: an object whose
     * {@code features}, when present, is an object with a non-empty {@code sources} array of
     * column names, and whose {@code label}, when present, is a column name.
     */
    private static void checkJob(JsonNode job, Path file) {
        if (job == null || !job.isObject()) {
            throw new BadInputException("--model: " + file + " is not a JSON object (the train job writes one)");
        }
        JsonNode features = job.get("features");
        if (features != null) {
            JsonNode sources = features.isObject() ? features.get("sources") : null;
            boolean ok = sources != null && sources.isArray() && !sources.isEmpty();
            for (int i = 0; ok && i < sources.size(); i++) {
                ok = sources.get(i).isTextual();
            }
            if (!ok) {
                throw new BadInputException("--model: " + file + ": \"features\" must be an object whose \"sources\" "
                        + "is a non-empty array of column names; repair the file (the train job writes it)");
            }
        }
        JsonNode label = job.get("label");
        if (label != null && !label.isNull() && !label.isTextual()) {
            throw new BadInputException("--model: " + file + ": \"label\" must be a column name (a string)");
        }
    }
}
