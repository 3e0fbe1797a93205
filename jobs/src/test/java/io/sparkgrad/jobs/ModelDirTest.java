package io.sparkgrad.jobs;

import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import io.sparkgrad.jobs.JobsTestSupport.Result;
import io.sparkgrad.spark.ml.NeuralNetClassificationModel;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged or hostile model directories given to {@code --model}: each is refused with exit status 2
 * and one short line naming the file and the field, before anything large is allocated (the test
 * JVM has a 2 GiB heap; the perceptrons these metadata describe would need 6 to 10 GiB).
 */
class ModelDirTest {
    /** The trained model's directory and its metadata file's path inside it. */
    private static Path model;
    private static Path metadata;
    private static String csv;
    private static SparkSession spark;
    /** Where the data and the trained model live, for the whole class. */
    @TempDir
    static Path home;

    @BeforeAll
    static void trainATinyModel() throws Exception {
        spark = JobsTestSupport.session("ModelDirTest");
        csv = new Blobs(100, 4, 2, 31).writeCsv(home.resolve("ok.csv")).toString();
        model = home.resolve("model");
        assertEquals(0, JobsTestSupport.run("train", "--input", csv, "--layers", "4", "--epochs", "1", "--output",
                model.toString(), "--progress", "none").code());
        try (Stream<Path> s = Files.list(model.resolve("model/metadata"))) {
            metadata = model.relativize(s.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst()
                    .orElseThrow());
        }
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    /** Where each test makes its damaged copies. */
    @TempDir
    Path tmp;

    /** A copy of the trained model's directory with {@code from} replaced by {@code to} in {@code file}. */
    private Path damaged(Path file, String from, String to) throws IOException {
        Path copy = tmp.resolve("m" + System.nanoTime());
        try (Stream<Path> all = Files.walk(model)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path t = copy.resolve(model.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().endsWith(".crc")) { // the checksums would refuse the edit
                    Files.copy(p, t);
                }
            }
        }
        String text = Files.readString(copy.resolve(file));
        String edited = text.replace(from, to);
        assertNotEquals(text, edited, () -> from + " is not in " + file + ": " + text);
        Files.writeString(copy.resolve(file), edited);
        return copy;
    }

    /** Evaluate on {@code dir} fails with exit status 2 and one line holding every {@code expected} part. */
    private static String refused(Path dir, String... expected) {
        Result r = JobsTestSupport.run("evaluate", "--model", dir.toString(), "--input", csv);
        assertEquals(2, r.code(), r::toString);
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r::toString);
        String err = lines[0];
        assertTrue(err.startsWith("sparkgrad evaluate: --model: "), r::toString);
        assertTrue(err.length() < 600, () -> "a short line expected:\n" + r);
        for (String e : expected) {
            assertTrue(err.contains(e), () -> "'" + e + "' missing from:\n" + r);
        }
        return err;
    }

    @Test
    void sizesInTheMetadataAreCheckedAgainstTheWeightsBeforeTheNetworkIsBuilt() throws Exception {
        refused(damaged(metadata, "\"numFeatures\":4", "\"numFeatures\":500000000"), "data/weights.safetensors do "
                + "not fit", "a perceptron [500000000, 4, 2]", "of 2,000,000,014 parameters", "the file holds 30 values");
        refused(damaged(metadata, "\"hiddenLayers\":[4]", "\"hiddenLayers\":[40000,40000]"),
                "[4, 40000, 40000, 2]", "of 1,600,320,002 parameters");
        // The library's loader refuses it the same way, with its documented exception.
        Path big = damaged(metadata, "\"numFeatures\":4", "\"numFeatures\":500000000");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralNetClassificationModel.load(big.resolve("model").toString()));
        assertTrue(e.getMessage().contains("2,000,000,014 parameters"), e.getMessage());
    }

    @Test
    void paramsOfTheWrongTypeOrUnknownAreNamed() throws Exception {
        refused(damaged(metadata, "\"hiddenLayers\":[4]", "\"hiddenLayers\":\"x\""), "metadata",
                "'paramMap.hiddenLayers' = \"x\"", "not a value of that param");
        refused(damaged(metadata, "\"batchSize\":", "\"batchSize\":\"x\",\"zz\":"), "'paramMap.batchSize' = \"x\"");
        refused(damaged(metadata, "\"activation\":\"relu\"", "\"activation\":5"), "'paramMap.activation' = 5");
        refused(damaged(metadata, "\"paramMap\":{", "\"paramMap\":{\"noSuchParam\":1,"),
                "'paramMap.noSuchParam'", "NeuralNetClassificationModel does not have");
        String err = refused(damaged(metadata, "\"paramMap\":", "\"paramMap\":[],\"pm\":"), "no 'paramMap' object");
        assertFalse(err.contains("\"learningRate\""), "the metadata line is not echoed: " + err);
    }

    @Test
    void oversizedMetadataIsNotReadWhole() throws Exception {
        Path dir = damaged(metadata, "{\"class\"", "{" + "\"x\":0,".repeat(200_000) + "\"class\"");
        refused(dir, "longer than 1048576 bytes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NeuralNetClassificationModel.load(dir.resolve("model").toString()));
        assertTrue(e.getMessage().contains("at most 1048576"), e.getMessage());
    }

    @Test
    void jobJsonWithoutTheFeatureSourcesIsNamed() throws Exception {
        refused(damaged(Path.of(ModelDir.JOB), "\"sources\"", "\"sourcez\""), "job.json", "\"sources\"",
                "repair the file (the train job writes it)");
        refused(damaged(Path.of(ModelDir.JOB), "\"features\" : {", "\"features\" : { \"x\": {}, \"y\" : {"),
                "job.json is not valid JSON: Unexpected end-of-input");
    }

    @Test
    void theUndamagedModelStillEvaluates() {
        Result r = JobsTestSupport.run("evaluate", "--model", model.toString(), "--input", csv);
        assertEquals(0, r.code(), r::toString);
        assertEquals(List.of(), List.of(r.err().split("\n")).stream().filter(l -> l.startsWith("\tat ")).toList());
    }
}
