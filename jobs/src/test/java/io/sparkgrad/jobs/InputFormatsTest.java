package io.sparkgrad.jobs;

import io.sparkgrad.Tensor;
import io.sparkgrad.data.IdxReader;
import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import io.sparkgrad.jobs.JobsTestSupport.Result;
import io.sparkgrad.jobs.data.ArrowIpc;
import io.sparkgrad.jobs.data.IdxSource;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every input format, as real files: the train job learns from each, evaluate scores held-out rows
 * of the same format, predict writes what it should; and the IDX and Arrow readers give exactly
 * the values that were written (the IDX reader the same values as the engine's {@code IdxReader}).
 */
class InputFormatsTest {
    private static SparkSession spark;
    private static final Pattern ACCURACY = Pattern.compile("test accuracy: (0\\.\\d{4}|1\\.0000)");

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = JobsTestSupport.session("InputFormatsTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Trains on {@code train}, evaluates on {@code test} and checks that the test accuracy is at least 0.9. */
    private void trainAndEvaluate(String train, String test, String... extra) throws Exception {
        Path out = tmp.resolve("model-" + System.nanoTime());
        // Synchronous steps (--local-steps 1): on a few hundred rows the trainer's automatic K would make an
        // epoch a single synchronisation, and these tests are about the formats, not about local SGD.
        String[] base = {"train", "--input", train, "--layers", "16", "--epochs", "3", "--batch", "32", "--lr", "0.02",
                "--local-steps", "1", "--validation", "0.2", "--seed", "5", "--output", out.toString(), "--progress",
                "none"};
        String[] args = concat(base, extra);
        Result r = JobsTestSupport.run(args);
        assertEquals(0, r.code(), r::toString);
        assertTrue(Files.isDirectory(out.resolve("model")), r::toString);
        Result e = JobsTestSupport.run(concat(new String[] {"evaluate", "--model", out.toString(), "--input", test},
                evaluateOptions(extra)));
        assertEquals(0, e.code(), e::toString);
        Matcher m = ACCURACY.matcher(e.out());
        assertTrue(m.find(), e::toString);
        assertTrue(Double.parseDouble(m.group(1)) >= 0.9, () -> "train: " + r + "\nevaluate: " + e);
    }

    /** The options of {@code train} that evaluate also needs (format and CSV settings). */
    private static String[] evaluateOptions(String[] trainExtra) {
        List<String> keep = List.of("--format", "--csv-sep", "--csv-header", "--num-features");
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < trainExtra.length; i += 2) {
            if (keep.contains(trainExtra[i])) {
                out.add(trainExtra[i]);
                out.add(trainExtra[i + 1]);
            }
        }
        return out.toArray(new String[0]);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void parquetWithNumericColumnsIsAssembled() throws Exception {
        Blobs train = new Blobs(600, 6, 3, 1);
        Blobs test = new Blobs(300, 6, 3, 1);
        String trainDir = tmp.resolve("train.parquet").toString();
        String testDir = tmp.resolve("test.parquet").toString();
        spark.createDataFrame(train.rows(), train.schema()).write().parquet(trainDir);
        spark.createDataFrame(test.rows(), test.schema()).write().parquet(testDir);
        trainAndEvaluate(trainDir, testDir);
    }

    @Test
    void parquetWithAVectorColumnAndNamedLabel() throws Exception {
        Blobs train = new Blobs(600, 6, 3, 1);
        Dataset<Row> df = spark.createDataFrame(train.rows(), train.schema());
        String[] cols = {"f0", "f1", "f2", "f3", "f4", "f5"};
        Dataset<Row> vec = new org.apache.spark.ml.feature.VectorAssembler().setInputCols(cols).setOutputCol("pixels")
                .transform(df).withColumnRenamed("label", "kind").select("pixels", "kind");
        String dir = tmp.resolve("vec.parquet").toString();
        vec.write().parquet(dir);
        trainAndEvaluate(dir, dir, "--features", "pixels", "--label", "kind");
    }

    @Test
    void csvWithHeaderAndSemicolons() throws Exception {
        Path train = new Blobs(600, 6, 3, 2).writeCsv(tmp.resolve("train.csv"));
        Path test = new Blobs(300, 6, 3, 2).writeCsv(tmp.resolve("test.csv"));
        Files.writeString(train, Files.readString(train).replace(',', ';'));
        Files.writeString(test, Files.readString(test).replace(',', ';'));
        trainAndEvaluate(train.toString(), test.toString(), "--csv-sep", ";",
                "--features", "f0,f1,f2,f3,f4,f5");
    }

    @Test
    void libsvmTakesTheFeatureCountFromTheModel() throws Exception {
        Path train = new Blobs(600, 6, 3, 3).writeLibsvm(tmp.resolve("train.libsvm"));
        Path test = new Blobs(300, 6, 3, 3).writeLibsvm(tmp.resolve("test.svm"));
        trainAndEvaluate(train.toString(), test.toString(), "--num-features", "6");
    }

    @Test
    void idxPlainAndGzipWithLabelsFoundByName() throws Exception {
        Path train = new Blobs(600, 6, 3, 4).writeIdx(tmp, "train", 2, true);
        Path test = new Blobs(300, 6, 3, 4).writeIdx(tmp, "t10k", 2, false);
        trainAndEvaluate(train.toString(), test.toString());
    }

    @Test
    void arrowFileAndStreamFormats() throws Exception {
        Path train = new Blobs(600, 6, 3, 5).writeArrow(tmp.resolve("train.arrow"), false, 128);
        Path testDir = Files.createDirectory(tmp.resolve("test-arrow"));
        new Blobs(300, 6, 3, 5).writeArrow(testDir.resolve("part-0.arrows"), true, 100);
        trainAndEvaluate(train.toString(), testDir.toString());
    }

    @Test
    void idxReaderGivesTheEngineReadersValues() throws Exception {
        Blobs b = new Blobs(257, 12, 4, 6);
        Path images = b.writeIdx(tmp, "check", 3, true);
        Path labels = tmp.resolve("check-labels-idx1-ubyte.gz");
        List<Row> rows = IdxSource.read(spark, images.toString(), labels.toString(), 0, 3).collectAsList();
        Tensor x = IdxReader.readImages(images);
        Tensor y = IdxReader.readLabels(labels);
        assertEquals(List.of(257, 3, 4), java.util.Arrays.stream(x.shape()).boxed().toList());
        float[] expected = x.contiguousData().toFloatArray();
        long[] expectedLabels = y.toLongArray();
        assertEquals(257, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            List<Float> got = rows.get(i).getList(0);
            float[] gotF = new float[got.size()];
            for (int j = 0; j < gotF.length; j++) {
                gotF[j] = got.get(j);
            }
            assertArrayEquals(java.util.Arrays.copyOfRange(expected, i * 12, (i + 1) * 12), gotF, "row " + i);
            assertEquals((double) expectedLabels[i], rows.get(i).getDouble(1), "label of row " + i);
        }
        assertEquals(10, IdxSource.read(spark, images.toString(), null, 10, 0).count());
    }

    @Test
    void idxReaderMatchesOnFashionMnistWhenInstalled() throws Exception {
        Path images = Path.of("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(images),
                "Debian's dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)");
        List<Row> rows = IdxSource.read(spark, images.toString(), null, 500, 2).collectAsList();
        float[] expected = IdxReader.readImages(images).contiguousData().toFloatArray();
        for (int i = 0; i < rows.size(); i++) {
            List<Float> got = rows.get(i).getList(0);
            for (int j = 0; j < got.size(); j++) {
                assertEquals(expected[i * 784 + j], got.get(j), "row " + i + " pixel " + j);
            }
        }
    }

    @Test
    void arrowWriterRoundTripsPredictionsAndKeptColumns() throws Exception {
        Blobs b = new Blobs(400, 6, 3, 7);
        String data = tmp.resolve("data.parquet").toString();
        spark.createDataFrame(b.rows(), b.schema()).write().parquet(data);
        Path model = tmp.resolve("m");
        Result t = JobsTestSupport.run("train", "--input", data, "--layers", "8", "--epochs", "2", "--batch", "50",
                "--lr", "0.02", "--output", model.toString(), "--progress", "none");
        assertEquals(0, t.code(), t::toString);
        Path preds = tmp.resolve("preds");
        Result p = JobsTestSupport.run("predict", "--model", model.toString(), "--input", data, "--output",
                preds.toString(), "--output-format", "arrow", "--keep", "f0,label");
        assertEquals(0, p.code(), p::toString);
        assertTrue(JobsTestSupport.list(preds).stream().anyMatch(n -> n.matches("part-\\d{5}\\.arrow")), p::toString);
        Dataset<Row> back = ArrowIpc.read(spark, preds.toString(), 0);
        assertEquals(List.of("f0", "label", "prediction", "probability"), List.of(back.columns()));
        assertEquals(400, back.count());
        Dataset<Row> parquetPreds = spark.read().parquet(writeParquetPredictions(model, data));
        assertEquals(parquetPreds.orderBy("f0").select("prediction").collectAsList(),
                back.orderBy("f0").select("prediction").collectAsList());
        for (Row r : back.collectAsList()) {
            List<Double> prob = r.getList(3);
            double sum = 0;
            for (double v : prob) {
                sum += v;
            }
            assertEquals(3, prob.size());
            assertEquals(1.0, sum, 1e-5);
        }
    }

    private String writeParquetPredictions(Path model, String data) {
        Path preds = tmp.resolve("preds-parquet");
        Result p = JobsTestSupport.run("predict", "--model", model.toString(), "--input", data, "--output",
                preds.toString(), "--keep", "f0,label");
        assertEquals(0, p.code(), p::toString);
        return preds.toString();
    }
}
