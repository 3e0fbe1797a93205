package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.io.SafeTensorsFormatException;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.data.InvalidRowException;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.SparkException;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models made from known weights (no training): batched transform on real {@code local[2]} Spark
 * against the engine's own forward pass, invalid rows, and save/load with corrupt files refused.
 */
class NeuralNetModelTest {
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTests.session("NeuralNetModelTest", true);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static final int FEATURES = 4;
    private static final int CLASSES = 3;

    /** A classification model over Mlp(4, [8], 3) with the Mlp's seeded initial weights. */
    static NeuralNetClassificationModel classifier(long seed) {
        Module net = Mlp.of(FEATURES, new int[] {8}, CLASSES, "relu", seed).get();
        NeuralNetClassificationModel m = new NeuralNetClassificationModel("nnClassifier_test" + seed, FEATURES, CLASSES,
                Weights.encode(net.stateDict(), Map.of()));
        m.set(m.hiddenLayers(), new int[] {8});
        return m;
    }

    /** The engine's forward pass for one row, in float32. */
    private static float[] engineForward(Module net, Vector features) {
        double[] d = features.toArray();
        float[] x = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            x[i] = (float) d[i];
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            return net.apply(Tensor.wrap(x, 1, d.length)).toFloatArray();
        }
    }

    @Test
    void transformMatchesTheEngineRowByRow() {
        NeuralNetClassificationModel model = classifier(5);
        Module net = model.network();
        // More rows than one batch, so several forward passes per partition.
        Dataset<Row> df = SparkTests.blobs(1500, CLASSES, FEATURES, 1, 3);
        Dataset<Row> out = model.transform(df);
        assertEquals(Arrays.asList("features", "label", "rawPrediction", "probability", "prediction"),
                Arrays.asList(out.columns()));
        List<Row> rows = out.collectAsList();
        assertEquals(1500, rows.size());
        for (Row r : rows) {
            float[] expected = engineForward(net, r.getAs("features"));
            Vector raw = r.getAs("rawPrediction");
            Vector p = r.getAs("probability");
            double sum = 0;
            for (int k = 0; k < CLASSES; k++) {
                assertEquals(expected[k], raw.apply(k), 1e-5 * Math.max(1, Math.abs(expected[k])));
                sum += p.apply(k);
            }
            assertEquals(1.0, sum, 1e-12);
            assertEquals(raw.argmax(), r.getDouble(r.fieldIndex("prediction")));
            assertEquals(p.argmax(), raw.argmax());
            assertEquals(model.predict(r.getAs("features")), r.getDouble(r.fieldIndex("prediction")));
        }
        Attribute pred = Attribute.fromStructField(out.schema().apply("prediction"));
        assertEquals(CLASSES, ((NominalAttribute) pred).getNumValues().get());
    }

    @Test
    void arrayFeaturesAndDisabledOutputs() {
        NeuralNetClassificationModel model = classifier(6).setRawPredictionCol("").setProbabilityCol("")
                .setFeaturesCol("x");
        StructType schema = new StructType(new StructField[] {
            new StructField("x", DataTypes.createArrayType(DataTypes.FloatType), true, Metadata.empty()),
            new StructField("id", DataTypes.IntegerType, false, Metadata.empty())});
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            rows.add(RowFactory.create(Arrays.asList(0.1f * i, -0.2f * i, 1f, (float) Math.sin(i)), i));
        }
        Dataset<Row> out = model.transform(spark.createDataFrame(rows, schema));
        assertEquals(Arrays.asList("x", "id", "prediction"), Arrays.asList(out.columns()));
        Module net = model.network();
        for (Row r : out.collectAsList()) {
            List<Float> x = r.getList(0);
            Vector v = Vectors.dense(x.stream().mapToDouble(Float::doubleValue).toArray());
            float[] y = engineForward(net, v);
            int best = 0;
            for (int k = 1; k < y.length; k++) {
                best = y[k] > y[best] ? k : best;
            }
            assertEquals(best, r.getDouble(2), "row " + r.getInt(1));
        }
    }

    /** Rows 0..5 in one partition: row 2 has null features, row 4 a NaN, row 5 the wrong length. */
    private static Dataset<Row> withInvalidRows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Vector v = i == 2 ? null : i == 4 ? Vectors.dense(1, Double.NaN, 0, 0)
                    : i == 5 ? Vectors.dense(1, 2, 3) : Vectors.dense(i, 1, 0, -1);
            rows.add(RowFactory.create(v, 0.0));
        }
        return spark.createDataFrame(rows, SparkTests.vectorSchema()).coalesce(1);
    }

    @Test
    void invalidRowsFailNamingColumnProblemPartitionAndRow() {
        NeuralNetClassificationModel model = classifier(7);
        SparkException e = assertThrows(SparkException.class, () -> model.transform(withInvalidRows()).collectAsList());
        InvalidRowException cause = findCause(e, InvalidRowException.class);
        assertEquals("features", cause.column());
        assertEquals(0, cause.partition());
        assertEquals(2, cause.row());
        assertTrue(cause.getMessage().contains("column 'features' is null"), cause.getMessage());
        assertTrue(e.getMessage().contains("invalid row 2 of partition 0"), e.getMessage());
    }

    @Test
    void invalidRowsAreDroppedWithSkip() {
        NeuralNetClassificationModel model = classifier(7).setHandleInvalid("skip");
        List<Row> out = model.transform(withInvalidRows()).collectAsList();
        assertEquals(3, out.size());
        for (Row r : out) {
            assertEquals(FEATURES, ((Vector) r.getAs("features")).size());
        }
        // NaN and wrong length, each on its own, also fail with "error".
        NeuralNetClassificationModel strict = classifier(7);
        Dataset<Row> nan = withInvalidRows().where("features is not null");
        InvalidRowException c = findCause(assertThrows(SparkException.class, () -> strict.transform(nan).count()),
                InvalidRowException.class);
        assertTrue(c.getMessage().contains("element 1 is NaN"), c.getMessage());
        Dataset<Row> shortRow = spark.createDataFrame(
                List.of(RowFactory.create(Vectors.dense(1, 2, 3), 0.0)), SparkTests.vectorSchema());
        c = findCause(assertThrows(SparkException.class, () -> strict.transform(shortRow).count()),
                InvalidRowException.class);
        assertTrue(c.getMessage().contains("has 3 elements, the model takes 4"), c.getMessage());
    }

    @Test
    void schemaProblemsAreCaughtBeforeAnyJob() {
        NeuralNetClassificationModel model = classifier(8);
        Dataset<Row> df = SparkTests.blobs(10, CLASSES, FEATURES, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.setFeaturesCol("nope").transform(df));
        assertTrue(e.getMessage().contains("features column 'nope' does not exist"), e.getMessage());
        model.setFeaturesCol("features");
        e = assertThrows(IllegalArgumentException.class, () -> model.transform(df.withColumn("prediction",
                org.apache.spark.sql.functions.lit(1.0))));
        assertTrue(e.getMessage().contains("output column 'prediction' already exists"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.setFeaturesCol("label").transform(df));
        assertTrue(e.getMessage().contains("features column 'label' has type double"), e.getMessage());
    }

    @Test
    void regressionModelTransformsAndPredicts() {
        Module net = Mlp.of(3, new int[] {5}, 1, "tanh", 3).get();
        NeuralNetRegressionModel model = new NeuralNetRegressionModel("nnRegressor_t", 3,
                Weights.encode(net.stateDict(), Map.of()));
        model.set(model.hiddenLayers(), new int[] {5});
        model.set(model.activation(), "tanh");
        List<Row> rows = model.transform(SparkTests.linear(50, 2, 2)).collectAsList();
        assertEquals(50, rows.size());
        for (Row r : rows) {
            Vector x = r.getAs("features");
            assertEquals(engineForward(net, x)[0], r.getDouble(2), 1e-6);
            assertEquals(model.predict(x), r.getDouble(2), 1e-6);
        }
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path dir) throws IOException {
        NeuralNetClassificationModel model = classifier(9).setPredictionCol("pred").setHandleInvalid("skip");
        String path = dir.resolve("model").toString();
        model.write().save(path);

        NeuralNetClassificationModel loaded = NeuralNetClassificationModel.load(path);
        assertEquals(model.uid(), loaded.uid());
        assertEquals(FEATURES, loaded.numFeatures());
        assertEquals(CLASSES, loaded.numClasses());
        assertEquals("pred", loaded.getPredictionCol());
        assertEquals("skip", loaded.getHandleInvalid());
        assertArrayEquals(new int[] {8}, loaded.getHiddenLayers());
        assertArrayEquals(model.weightsSafetensors(), loaded.weightsSafetensors());
        assertFalse(loaded.hasSummary());
        IllegalStateException noSummary = assertThrows(IllegalStateException.class, loaded::summary);
        assertTrue(noSummary.getMessage().contains("No training summary"), noSummary.getMessage());

        Dataset<Row> df = SparkTests.blobs(200, CLASSES, FEATURES, 4, 2);
        assertEquals(model.transform(df).collectAsList(), loaded.transform(df).collectAsList());

        // The weights are a plain safetensors file with PyTorch's names; the metadata is Spark's JSON.
        SafeTensors.Contents c = SafeTensors.load(dir.resolve("model/data/weights.safetensors"));
        assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), new ArrayList<>(c.tensors().keySet()));
        assertArrayEquals(new int[] {8, FEATURES}, c.tensors().get("0.weight").shape());
        String metadata = Files.readString(Files.list(dir.resolve("model/metadata"))
                .filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow());
        assertTrue(metadata.contains("\"class\":\"io.sparkgrad.spark.ml.NeuralNetClassificationModel\""), metadata);
        assertTrue(metadata.contains("\"numFeatures\":4") && metadata.contains("\"numOutputs\":3"), metadata);
        assertTrue(metadata.contains("\"paramMap\":{") && metadata.contains("\"predictionCol\":\"pred\""), metadata);
        assertTrue(metadata.contains("\"defaultParamMap\":{"), metadata);

        // Saving again over it needs overwrite(), as everywhere in Spark ML.
        assertThrows(IOException.class, () -> model.write().save(path));
        model.setPredictionCol("p2").write().overwrite().save(path);
        assertEquals("p2", NeuralNetClassificationModel.load(path).getPredictionCol());
    }

    @Test
    void regressionModelRoundTrip(@TempDir Path dir) throws IOException {
        Module net = Mlp.of(3, new int[0], 1, "relu", 3).get();
        NeuralNetRegressionModel model = new NeuralNetRegressionModel("nnRegressor_rt", 3,
                Weights.encode(net.stateDict(), Map.of()));
        model.set(model.hiddenLayers(), new int[0]);
        String path = dir.resolve("reg").toString();
        model.write().save(path);
        NeuralNetRegressionModel loaded = NeuralNetRegressionModel.load(path);
        Vector x = Vectors.dense(0.5, -1, 2);
        assertEquals(model.predict(x), loaded.predict(x));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("NeuralNetClassificationModel") && e.getMessage().contains("NeuralNetRegressionModel"),
                e.getMessage());
    }

    /**
     * Metadata that describes a network far larger than its weights, or holds params of the wrong
     * type or unknown ones, is refused with an IllegalArgumentException naming the field, before the
     * network is built (a [500000000, 8, 3] perceptron would need 16 GiB; the test JVM has 2).
     */
    @Test
    void damagedMetadataIsRefusedNamingTheFieldBeforeTheNetworkIsBuilt(@TempDir Path dir) throws IOException {
        String path = dir.resolve("model").toString();
        classifier(11).write().save(path);
        Path part;
        try (java.util.stream.Stream<Path> s = Files.list(dir.resolve("model/metadata"))) {
            part = s.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
        }
        Files.deleteIfExists(part.resolveSibling("." + part.getFileName() + ".crc"));
        String good = Files.readString(part);
        String[][] cases = {
            {"\"numFeatures\":4", "\"numFeatures\":500000000", "do not fit the network its metadata describes: a "
                    + "perceptron [500000000, 8, 3] (numFeatures, hiddenLayers, numOutputs) of 4,000,000,035 parameters, "
                    + "but the file holds 67 values"},
            {"\"hiddenLayers\":[8]", "\"hiddenLayers\":\"x\"", "'paramMap.hiddenLayers' = \"x\", which is not a value"},
            {"\"paramMap\":{", "\"paramMap\":{\"noSuchParam\":1,", "the param 'paramMap.noSuchParam', which "
                    + "NeuralNetClassificationModel does not have"},
            {"\"paramMap\":", "\"paramMap\":[],\"pm\":", "has no 'paramMap' object of params"},
        };
        for (String[] c : cases) {
            String damaged = good.replace(c[0], c[1]);
            assertFalse(damaged.equals(good), c[0]);
            Files.writeString(part, damaged);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> NeuralNetClassificationModel.load(path), c[1]);
            assertTrue(e.getMessage().contains(c[2]) && e.getMessage().contains(path), e.getMessage());
            assertTrue(e.getMessage().length() < 500, e.getMessage());
        }
        Files.writeString(part, good);
        assertEquals(FEATURES, NeuralNetClassificationModel.load(path).numFeatures());
    }

    @Test
    void corruptOrMissingWeightsAreRefusedNamingTheFile(@TempDir Path dir) throws IOException {
        String path = dir.resolve("model").toString();
        classifier(10).write().save(path);
        Path weights = dir.resolve("model/data/weights.safetensors");
        Path checksum = dir.resolve("model/data/.weights.safetensors.crc");
        byte[] good = Files.readAllBytes(weights);

        // Hadoop's local file system keeps a checksum next to the file: a changed byte is caught by it.
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        Files.write(weights, flipped);
        assertTrue(Files.exists(checksum));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("weights.safetensors is corrupt") && e.getMessage().contains("checksum"),
                e.getMessage());

        // Without a checksum (a copy made by other tools), the safetensors checks catch the damage.
        Files.delete(checksum);
        Files.write(weights, Arrays.copyOf(good, good.length - 7)); // truncated data
        e = assertThrows(IllegalArgumentException.class, () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("weights.safetensors") && e.getMessage().contains("corrupt"), e.getMessage());
        assertTrue(e.getCause() instanceof SafeTensorsFormatException, String.valueOf(e.getCause()));

        byte[] garbage = good.clone();
        garbage[3] = 0x7f; // a header length of petabytes
        Files.write(weights, garbage);
        e = assertThrows(IllegalArgumentException.class, () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("corrupt") && e.getMessage().contains("header length"), e.getMessage());

        // Well-formed safetensors, but the tensors of another network.
        Files.write(weights, Weights.encode(new Linear(4, 3).stateDict(), Map.of()));
        e = assertThrows(IllegalArgumentException.class, () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("do not fit the network"), e.getMessage());

        Files.delete(weights);
        e = assertThrows(IllegalArgumentException.class, () -> NeuralNetClassificationModel.load(path));
        assertTrue(e.getMessage().contains("weights.safetensors does not exist"), e.getMessage());
    }

    @Test
    void aLambdaNetworkCannotBeSavedAndNothingIsWritten(@TempDir Path dir) {
        NeuralNetClassificationModel model = classifier(11);
        SerializableSupplier<Module> lambda = () -> Mlp.of(FEATURES, new int[] {8}, CLASSES, "relu", 0).get();
        model.set(model.moduleFactory(), lambda);
        // It still transforms: the factory travels to the executors by Java serialization.
        assertEquals(5, model.transform(SparkTests.blobs(5, CLASSES, FEATURES, 1, 1)).count());
        Path target = dir.resolve("lambda-model");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.write().save(target.toString()));
        assertTrue(e.getMessage().contains("is a lambda"), e.getMessage());
        assertFalse(Files.exists(target.resolve("data")), "no weights were written");
    }

    static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " among the causes of " + t, t);
    }
}
