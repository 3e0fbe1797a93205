package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.train.SerializableSupplier;
import io.sparkgrad.io.SafeTensorsFormatException;
import io.sparkgrad.spark.ml.param.ModuleFactoryParam;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamPair;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsReader$;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.json4s.JInt;
import org.json4s.JObject;
import org.json4s.JString;
import org.json4s.JValue;
import scala.NotImplementedError;
import scala.Option;
import scala.Tuple2;
import scala.jdk.javaapi.CollectionConverters;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@link NeuralNetClassificationModel} and {@link NeuralNetRegressionModel} share: the
 * trained weights (one safetensors buffer), the network they fit, batched transformation on the
 * executors with the weights broadcast once, single-row prediction on the driver, the training
 * summary, and persistence.
 *
 * <h2>Saved layout</h2>
 * {@code PATH/metadata/} holds Spark's {@code DefaultParamsWriter} JSON (class, uid, Spark
 * version, every param, plus {@code numFeatures}, {@code numOutputs} and {@code weightsFormat});
 * {@code PATH/data/weights.safetensors} holds the network's state dict under PyTorch's names
 * ({@code "0.weight"}, …), readable by PyTorch's {@code safetensors.torch.load_file}. Loading checks
 * every length and offset of that file and that its tensors fit the network, and refuses a corrupt
 * or mismatched file with an error that names it.
 *
 * @param <M> the concrete model type
 */
public abstract class NeuralNetModel<M extends NeuralNetModel<M>> extends Model<M> implements NeuralNetParams,
        MLWritable {
    private static final long serialVersionUID = 1L;
    /** Version of the saved layout, written to the metadata. */
    static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Largest file accepted in a saved model's {@code metadata/} directory, in bytes. */
    public static final int MAX_METADATA_BYTES = 1 << 20;
    /** Longest piece of a model file's own text that an error message quotes. */
    private static final int MAX_QUOTED = 80;

    private final String uid;
    private final int numFeatures;
    private final int numOutputs;
    private final byte[] weights;
    private final BatchScorer.Cache broadcast = new BatchScorer.Cache();
    private NeuralNetTrainingSummary summary;

    NeuralNetModel(String uid, int numFeatures, int numOutputs, byte[] weights) {
        this.uid = uid;
        this.numFeatures = numFeatures;
        this.numOutputs = numOutputs;
        this.weights = weights;
        Defaults.set(this);
    }

    @Override
    public String uid() {
        return uid;
    }

    @SuppressWarnings("unchecked")
    private M self() {
        return (M) this;
    }

    /** The length of the feature vectors the model takes. */
    public int numFeatures() {
        return numFeatures;
    }

    /** The width of the network's output row (the number of classes, or 1). */
    public int numOutputs() {
        return numOutputs;
    }

    // ------------------------------------------------------------------ setters of the params transform reads

    public M setFeaturesCol(String value) {
        set(featuresCol(), value);
        return self();
    }

    public M setPredictionCol(String value) {
        set(predictionCol(), value);
        return self();
    }

    public M setHandleInvalid(String value) {
        set(handleInvalid(), value);
        return self();
    }

    /**
     * Where the executors score in {@link #transform}: {@code cpu}, {@code opencl} (each executor
     * picks one of its OpenCL devices) or {@code opencl:N}; a fitted model starts with its
     * estimator's setting.
     */
    public M setDevice(String value) {
        set(device(), value);
        return self();
    }

    // ------------------------------------------------------------------ the network

    /** The factory of the network: the {@link #moduleFactory()} param, or the perceptron the params describe. */
    public SerializableSupplier<? extends Module> networkFactory() {
        SerializableSupplier<? extends Module> f = getModuleFactory();
        return f != null ? f : Mlp.of(numFeatures, getHiddenLayers(), numOutputs, getActivation(), getSeed());
    }

    /** A new engine network holding the trained weights, in evaluation mode: use it as any {@link Module}. */
    public Module network() {
        return Weights.build(networkFactory(), weights, "the weights of " + uid);
    }

    /** The trained weights by PyTorch's state dict names (fresh tensors: changing them changes nothing here). */
    public Map<String, Tensor> stateDict() {
        return new LinkedHashMap<>(network().stateDict());
    }

    /** The weights as the safetensors bytes that {@code data/weights.safetensors} holds (a copy). */
    public byte[] weightsSafetensors() {
        return weights.clone();
    }

    byte[] weightBytes() {
        return weights;
    }

    /** The network's output row for one feature vector, computed on the driver. */
    protected double[] forward(Vector features) {
        if (features.size() != numFeatures) {
            throw new IllegalArgumentException("the feature vector has " + features.size()
                    + " elements; the model takes " + numFeatures);
        }
        double[] d = features.toArray();
        float[] x = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            x[i] = (float) d[i];
        }
        float[] y;
        try (GradMode.Guard g = GradMode.noGrad()) {
            y = network().apply(Tensor.wrap(x, 1, numFeatures)).contiguousData().toFloatArray();
        }
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = y[i];
        }
        return out;
    }

    // ------------------------------------------------------------------ transform

    /** The output columns in order, for {@link #transformSchema}; each subclass knows its own. */
    abstract StructType appendOutputs(StructType schema);

    /** The scorer for the current params. */
    abstract BatchScorer scorer(org.apache.spark.broadcast.Broadcast<byte[]> weights);

    @Override
    public StructType transformSchema(StructType schema) {
        Schemas.checkFeatures(schema, getFeaturesCol());
        return appendOutputs(schema);
    }

    /**
     * Appends the output columns, computing them on the executors in batches of
     * {@value BatchScorer#BATCH_ROWS} rows; the weights are broadcast on the first call and reused.
     */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType out = transformSchema(dataset.schema(), true);
        Dataset<Row> df = dataset.toDF();
        if (out.size() == df.schema().size()) {
            return df; // every output column was switched off
        }
        return scorer(broadcast.get(df.sparkSession().sparkContext(), weights)).transform(df, out);
    }

    // ------------------------------------------------------------------ summary

    /** Whether this model holds the summary of the fit that made it (a loaded model does not). */
    public boolean hasSummary() {
        return summary != null;
    }

    /** The training summary: per-epoch loss, validation metric, rows/s, overhead share, skipped rows. */
    public NeuralNetTrainingSummary summary() {
        if (summary == null) {
            throw new IllegalStateException("No training summary available for this " + getClass().getSimpleName()
                    + " (" + uid + "): only a model returned by fit() has one, a loaded model does not");
        }
        return summary;
    }

    M setSummary(NeuralNetTrainingSummary value) {
        this.summary = value;
        return self();
    }

    /** A model of the same class with the same uid and weights. */
    abstract M newInstance();

    @Override
    public M copy(ParamMap extra) {
        M copy = copyValues(newInstance(), extra);
        copy.setSummary(summary);
        if (hasParent()) {
            copy.setParent(parent());
        }
        return copy;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + ": uid=" + uid + ", numFeatures=" + numFeatures + ", numOutputs="
                + numOutputs + ", network=" + (getModuleFactory() != null ? getModuleFactory().getClass().getName()
                : networkFactory());
    }

    // ------------------------------------------------------------------ persistence

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** Writes metadata (Spark's format, with the model's sizes) and {@code data/weights.safetensors}. */
    static final class Writer extends MLWriter {
        private final NeuralNetModel<?> instance;

        Writer(NeuralNetModel<?> instance) {
            this.instance = instance;
        }

        @Override
        public void saveImpl(String path) {
            // Fails before anything is written when a param (a lambda network factory) cannot be saved.
            for (ParamPair<?> p : CollectionConverters.asJava(instance.extractParamMap().toSeq())) {
                @SuppressWarnings("unchecked")
                Param<Object> param = (Param<Object>) p.param();
                param.jsonEncode(p.value());
            }
            List<Tuple2<String, JValue>> extra = List.of(
                    new Tuple2<>("numFeatures", new JInt(scala.math.BigInt.apply(instance.numFeatures))),
                    new Tuple2<>("numOutputs", new JInt(scala.math.BigInt.apply(instance.numOutputs))),
                    new Tuple2<>("formatVersion", new JInt(scala.math.BigInt.apply(FORMAT_VERSION))),
                    new Tuple2<>("weights", new JString(Weights.FILE)));
            JObject extraMetadata = new JObject(CollectionConverters.asScala(extra).toList());
            DefaultParamsWriter$.MODULE$.saveMetadata(instance, path, sparkSession(), Option.apply(extraMetadata),
                    Option.empty());
            try {
                Weights.write(instance.weights, new Path(path, Weights.FILE), sparkSession().sessionState().newHadoopConf());
            } catch (IOException e) {
                throw new UncheckedIOException("writing the weights of " + instance.uid + " to " + path, e);
            }
        }
    }

    /** {@code s} cut to {@value #MAX_QUOTED} characters: errors about a damaged file stay one readable line. */
    static String cut(String s) {
        return cut(s, MAX_QUOTED);
    }

    /** The first line of {@code s}, cut to {@code max} characters. */
    static String cut(String s, int max) {
        String line = s.split("[\r\n]", 2)[0];
        return line.length() <= max && line.length() == s.length() ? s
                : line.substring(0, Math.min(line.length(), max)) + "… (" + s.length() + " characters)";
    }

    /** The model class's constructor, for {@link Reader}. */
    @FunctionalInterface
    interface Constructor<M> {
        M create(String uid, int numFeatures, int numOutputs, byte[] weights);
    }

    /** Reads what {@link Writer} wrote, checking the class, the sizes and the weights file. */
    static final class Reader<M extends NeuralNetModel<M>> extends MLReader<M> {
        private final Class<M> type;
        private final Constructor<M> constructor;

        Reader(Class<M> type, Constructor<M> constructor) {
            this.type = type;
            this.constructor = constructor;
        }

        @Override
        public M load(String path) {
            String where = "the model at " + path;
            checkMetadataSize(path, sparkSession().sessionState().newHadoopConf());
            DefaultParamsReader.Metadata metadata;
            try {
                metadata = DefaultParamsReader$.MODULE$.loadMetadata(path, sparkSession(), type.getName());
            } catch (Exception e) { // Scala code: json4s's MappingException and Hadoop's IOExceptions are undeclared
                if (e instanceof IOException) {
                    throw new UncheckedIOException("reading the metadata of " + where, (IOException) e);
                }
                // Spark's message quotes the whole metadata line: cut it to one readable line.
                throw new IllegalArgumentException("the metadata of " + where + " is not Spark ML metadata of a "
                        + type.getSimpleName() + ": " + cut(String.valueOf(e.getMessage()), 4 * MAX_QUOTED), e);
            }
            int version = intField(metadata, "formatVersion", path);
            if (version > FORMAT_VERSION) {
                throw new IllegalArgumentException("the model at " + path + " was saved in format version " + version
                        + " by a newer Sparkgrad; this one reads up to version " + FORMAT_VERSION);
            }
            int numFeatures = intField(metadata, "numFeatures", path);
            int numOutputs = intField(metadata, "numOutputs", path);
            byte[] weights;
            try {
                weights = Weights.read(new Path(path, Weights.FILE), sparkSession().sessionState().newHadoopConf());
            } catch (IOException e) {
                throw new UncheckedIOException("reading the weights of the model at " + path, e);
            }
            M model = constructor.create(metadata.uid(), numFeatures, numOutputs, weights);
            checkParams(model, metadata, path);
            try {
                metadata.getAndSetParams(model, Option.empty());
            } catch (IllegalArgumentException e) {
                throw e; // a value its param's validator refuses: Spark's message names the param and the value
            } catch (Exception | NotImplementedError e) {
                throw new IllegalArgumentException("the metadata of " + where + " (metadata/) holds params that "
                        + "cannot be set: " + cut(String.valueOf(e.getMessage()), 4 * MAX_QUOTED), e);
            }
            try {
                // Decoded once: counted against the perceptron the params describe, then loaded into it.
                Map<String, Tensor> tensors = decodeWeights(model, path);
                checkSize(model, tensors);
                Weights.build(model.networkFactory(), tensors, "the weights of " + model.uid());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot load " + type.getSimpleName() + " from " + path + ": "
                        + e.getMessage(), e);
            }
            return model;
        }

        /**
         * Refuses metadata files over {@link #MAX_METADATA_BYTES} before Spark reads them: Spark's
         * reader takes the first line whatever its length, and a saved model's is a few kilobytes.
         */
        private static void checkMetadataSize(String path, Configuration conf) {
            Path dir = new Path(path, "metadata");
            try {
                FileSystem fs = dir.getFileSystem(conf);
                if (!fs.exists(dir)) {
                    throw new IllegalArgumentException("the model at " + path + " has no metadata/ directory: not a "
                            + "Spark ML model directory");
                }
                for (FileStatus f : fs.listStatus(dir)) {
                    String name = f.getPath().getName();
                    if (f.isFile() && !name.startsWith("_") && !name.startsWith(".") && f.getLen() > MAX_METADATA_BYTES) {
                        throw new IllegalArgumentException("the metadata file " + f.getPath() + " has " + f.getLen()
                                + " bytes; a model's metadata has at most " + MAX_METADATA_BYTES + " (damaged, or not "
                                + "saved by Sparkgrad)");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("reading the metadata of the model at " + path, e);
            }
        }

        /**
         * Checks every param of {@code paramMap} and {@code defaultParamMap} before Spark sets them,
         * so that an unknown name or a value of the wrong JSON type is refused with a message naming
         * the field (Spark would throw {@code NoSuchElementException}, json4s's {@code
         * MappingException} or Scala's {@code NotImplementedError}).
         */
        private static void checkParams(NeuralNetModel<?> model, DefaultParamsReader.Metadata metadata, String path) {
            JsonNode root;
            try {
                root = JSON.readTree(metadata.metadataJson());
            } catch (IOException e) {
                throw new IllegalArgumentException("the metadata of the model at " + path + " is not valid JSON", e);
            }
            for (String map : List.of("paramMap", "defaultParamMap")) {
                JsonNode params = root.get(map);
                if (params == null && map.equals("defaultParamMap")) {
                    continue; // written by Spark before 2.4
                }
                if (params == null || !params.isObject()) {
                    throw new IllegalArgumentException("the metadata of the model at " + path + " has no '" + map
                            + "' object of params: not saved by Sparkgrad, or damaged");
                }
                Iterator<Map.Entry<String, JsonNode>> it = params.fields();
                while (it.hasNext()) {
                    Map.Entry<String, JsonNode> p = it.next();
                    String field = "'" + map + "." + cut(p.getKey()) + "'";
                    if (!model.hasParam(p.getKey())) {
                        throw new IllegalArgumentException("the metadata of the model at " + path + " has the param "
                                + field + ", which " + model.getClass().getSimpleName() + " does not have");
                    }
                    Param<?> param = model.getParam(p.getKey());
                    if (param instanceof ModuleFactoryParam) {
                        continue; // decoding builds the factory; Spark does that once, and its errors name the param
                    }
                    try {
                        param.jsonDecode(p.getValue().toString());
                    } catch (Exception | NotImplementedError e) {
                        throw new IllegalArgumentException("the metadata of the model at " + path + " has " + field
                                + " = " + cut(p.getValue().toString()) + ", which is not a value of that param ("
                                + param.doc() + ")", e);
                    }
                }
            }
        }

        /** The weights file's tensors, or an IllegalArgumentException naming the file when it is not safetensors. */
        private static Map<String, Tensor> decodeWeights(NeuralNetModel<?> model, String path) {
            try {
                return Weights.decode(model.weights, path + "/" + Weights.FILE).tensors();
            } catch (SafeTensorsFormatException e) {
                throw new IllegalArgumentException(Weights.FILE + " is not a valid safetensors file: " + e.getMessage(), e);
            }
        }

        /**
         * For the default perceptron: refuses, before building it, a network whose parameter count
         * (from numFeatures, hiddenLayers and numOutputs) is not the weights file's, so metadata
         * cannot make the loader allocate more than the weights it has read.
         */
        private static void checkSize(NeuralNetModel<?> model, Map<String, Tensor> tensors) {
            if (!(model.networkFactory() instanceof Mlp mlp)) {
                return;
            }
            long values = 0;
            for (Tensor t : tensors.values()) {
                values += t.numel();
            }
            if (mlp.parameters() != values) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "the weights in %s do not fit the "
                        + "network its metadata describes: a perceptron %s (numFeatures, hiddenLayers, numOutputs) of "
                        + "%,d parameters, but the file holds %,d values; the metadata is damaged or belongs to another "
                        + "model", Weights.FILE, Arrays.toString(mlp.widths()),
                        mlp.parameters(), values));
            }
        }

        private static int intField(DefaultParamsReader.Metadata metadata, String name, String path) {
            JsonNode v;
            try {
                v = JSON.readTree(metadata.metadataJson()).get(name);
            } catch (IOException e) {
                throw new IllegalArgumentException("the metadata of the model at " + path + " is not valid JSON", e);
            }
            if (v == null || !v.canConvertToInt() || v.intValue() < 0) {
                throw new IllegalArgumentException("the metadata of the model at " + path + " has no valid '" + name
                        + "' (" + v + "): not saved by Sparkgrad, or damaged");
            }
            return v.intValue();
        }
    }
}
