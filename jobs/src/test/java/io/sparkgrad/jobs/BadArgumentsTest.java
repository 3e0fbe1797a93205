package io.sparkgrad.jobs;

import io.sparkgrad.jobs.JobsTestSupport.Blobs;
import io.sparkgrad.jobs.JobsTestSupport.Result;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad arguments and unreadable input: exit status 2, one line on stderr that names the argument or
 * file and says what was expected, and nothing in the output location (not even a staging
 * directory) afterwards.
 */
class BadArgumentsTest {
    private static SparkSession spark;

    @TempDir
    static Path shared;
    @TempDir
    Path tmp;

    private static String csv;
    private static String model;

    @BeforeAll
    static void start() throws Exception {
        spark = JobsTestSupport.session("BadArgumentsTest");
        csv = new Blobs(200, 4, 2, 21).writeCsv(shared.resolve("ok.csv")).toString();
        model = shared.resolve("model").toString();
        Result r = JobsTestSupport.run("train", "--input", csv, "--layers", "4", "--epochs", "1", "--output", model,
                "--progress", "none");
        assertEquals(0, r.code(), r::toString);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Runs {@code args} and checks the exit status 2, a single stderr line with every {@code expected} part, and no output. */
    private void rejects(List<String> args, String... expected) throws Exception {
        Path out = tmp.resolve("out");
        List<String> all = new ArrayList<>(args);
        if (!all.contains("--output") && !args.get(0).equals("evaluate")) {
            all.add("--output");
            all.add(out.toString());
        }
        Result r = JobsTestSupport.run(all.toArray(new String[0]));
        assertEquals(2, r.code(), r::toString);
        // The error is the last line; lines before it are the job's progress, never a stack trace.
        String[] lines = r.err().strip().split("\n");
        String err = lines[lines.length - 1];
        for (String l : lines) {
            assertFalse(l.startsWith("\tat ") || l.startsWith("Caused by"), () -> "no stack trace expected:\n" + r);
        }
        assertTrue(err.startsWith("sparkgrad " + args.get(0) + ": "), r::toString);
        for (String e : expected) {
            assertTrue(err.contains(e), () -> "'" + e + "' missing from:\n" + r);
        }
        assertEquals(List.of(), JobsTestSupport.list(tmp).stream().filter(n -> n.contains("out")).toList(),
                "nothing may be left in the output location");
    }

    private static List<String> train(String... args) {
        List<String> all = new ArrayList<>(List.of("train", "--progress", "none"));
        all.addAll(List.of(args));
        return all;
    }

    @Test
    void unknownOptionSuggestsTheNearestOne() throws Exception {
        rejects(train("--input", csv, "--epoch", "3"), "unknown option --epoch", "did you mean --epochs?");
    }

    @Test
    void unknownJob() throws Exception {
        Result r = JobsTestSupport.run("fit", "--input", csv);
        assertEquals(2, r.code());
        assertEquals("sparkgrad: unknown job 'fit'; expected train, evaluate or predict (see --help)", r.err().strip());
    }

    @Test
    void numbersOutOfRangeOrNotNumbers() throws Exception {
        rejects(train("--input", csv, "--epochs", "0"), "--epochs: expected an integer in [1, 1000000], got 0");
        rejects(train("--input", csv, "--lr", "fast"), "--lr", "got 'fast'");
        rejects(train("--input", csv, "--validation", "1"), "--validation", "[0, 1)");
        rejects(train("--input", csv, "--layers", "64,,32"), "--layers");
        rejects(train("--input", csv, "--optimizer", "lbfgs"), "--optimizer", "sgd, adam, adamw", "'lbfgs'");
        rejects(train("--input", csv, "--batch"), "--batch: expected a value");
    }

    @Test
    void missingRequiredAndConflictingOptions() throws Exception {
        rejects(train("--epochs", "2"), "--input is required");
        rejects(train("--input", csv, "--resume"), "--resume needs --checkpoint-dir");
        rejects(train("--input", csv, "--early-stopping", "2", "--validation", "0"), "--early-stopping", "--validation");
        rejects(train("--input", csv, "--model-spec", csv, "--layers", "8"), "--model-spec replaces --layers");
    }

    @Test
    void inputThatIsMissingOrOfAnotherFormat() throws Exception {
        rejects(train("--input", tmp.resolve("nope.parquet").toString()), "--input", "nope.parquet", "does not exist");
        rejects(train("--input", csv, "--format", "parquet"), "--input", "ok.csv", "parquet");
        Path text = Files.writeString(tmp.resolve("notes.txt"), "hello\n");
        rejects(train("--input", text.toString()), "--format", "cannot tell the format", "notes.txt");
        rejects(train("--input", text.toString(), "--format", "arrow"), "notes.txt", "Arrow IPC");
    }

    @Test
    void columnsThatDoNotExistOrDoNotFit() throws Exception {
        rejects(train("--input", csv, "--label", "kind"), "--label", "'kind' does not exist", "f0");
        rejects(train("--input", csv, "--features", "f0,f9"), "--features", "'f9' does not exist");
        Path strings = Files.writeString(tmp.resolve("s.csv"), "a,label\nx,1\ny,0\n");
        rejects(train("--input", strings.toString(), "--features", "a"), "--features", "'a'", "string");
    }

    @Test
    void damagedIdxFiles() throws Exception {
        Path images = new Blobs(50, 4, 2, 22).writeIdx(tmp, "bad", 2, false);
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        rejects(train("--input", images.toString()), "bad-images-idx3-ubyte", "bytes");
        Files.write(images, new byte[] {0x12, 0x34, 0x08, 0x03, 0, 0});
        rejects(train("--input", images.toString()), "bad-images-idx3-ubyte", "not an IDX file");
        Path gz = new Blobs(50, 4, 2, 23).writeIdx(tmp, "cut", 2, true);
        byte[] g = Files.readAllBytes(gz);
        Files.write(gz, java.util.Arrays.copyOf(g, g.length / 2));
        rejects(train("--input", gz.toString()), "cut-images-idx3-ubyte.gz");
        Path alone = new Blobs(50, 4, 2, 24).writeIdx(tmp, "alone", 2, false);
        Files.delete(tmp.resolve("alone-labels-idx1-ubyte"));
        rejects(train("--input", alone.toString()), "--labels", "alone-labels-idx1-ubyte does not exist");
        new Blobs(60, 4, 2, 24).writeIdx(tmp, "other", 2, false);
        rejects(train("--input", alone.toString(), "--labels", tmp.resolve("other-labels-idx1-ubyte").toString()),
                "60 labels", "50 examples");
    }

    @Test
    void malformedCsvAndLibsvmRowsNameTheFileAndTheRecord() throws Exception {
        Path shortRow = Files.writeString(tmp.resolve("short.csv"), "f0,f1,label\n0.5,1.5,1\n0.25,0\n-1,2,0\n");
        rejects(train("--input", shortRow.toString(), "--label", "label"), "short.csv", "Malformed CSV record: 0.25,0");
        Path letters = Files.writeString(tmp.resolve("letters.libsvm"), "1 1:0.5 2:1.5\n0 1:x\n");
        rejects(train("--input", letters.toString(), "--format", "libsvm"), "letters.libsvm",
                "as libsvm: For input string: \"x\" (NumberFormatException)");
        Path hugeIndex = Files.writeString(tmp.resolve("huge.libsvm"), "1 1:0.5 2147483647:1.5\n0 1:1\n");
        rejects(train("--input", hugeIndex.toString(), "--format", "libsvm"), "--layers",
                "on the 2,147,483,647 features of " + hugeIndex, "128 x 2,147,483,647 weight matrix");
    }

    @Test
    void badModelSpecs() throws Exception {
        Path spec = tmp.resolve("spec.json");
        Files.writeString(spec, "{\"input\": [1, 2, 2], \"layers\": [{\"type\": \"conv2d\", \"out_channels\": 2, "
                + "\"kernel_size\": 3}]}");
        rejects(train("--input", csv, "--model-spec", spec.toString()), "--model-spec", "layers[0] (conv2d)",
                "smaller than kernel_size 3");
        Files.writeString(spec, "{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out_features\": 2}, ]}");
        rejects(train("--input", csv, "--model-spec", spec.toString()), "--model-spec", "not valid JSON");
        Files.writeString(spec, "{\"input\": [5], \"layers\": [{\"type\": \"linear\", \"out_features\": 2}]}");
        rejects(train("--input", csv, "--model-spec", spec.toString()), "--model-spec", "input [5] holds 5 values",
                "4 features");
        Files.writeString(spec, "{\"input\": [4], \"layers\": [{\"type\": \"linear\", \"out_features\": 3}]}");
        rejects(train("--input", csv, "--model-spec", spec.toString()), "--model-spec", "3 outputs", "2 classes");
    }

    @Test
    void existingOutputIsKeptUnlessOverwriting() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        Result r = JobsTestSupport.run("train", "--input", csv, "--output", out.toString(), "--progress", "none");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("--output") && r.err().contains("already exists"), r::toString);
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void anInvalidRowFailsTheJobAndLeavesNothing() throws Exception {
        Path nan = Files.writeString(tmp.resolve("nan.csv"), "f0,f1,label\n0.1,0.2,0\n0.3,NaN,1\n0.5,0.1,1\n");
        rejects(train("--input", nan.toString(), "--validation", "0"), "invalid row", "NaN", "--handle-invalid skip");
    }

    @Test
    void evaluateAndPredictNameTheirBadArguments() throws Exception {
        rejects(List.of("evaluate", "--model", tmp.resolve("none").toString(), "--input", csv), "--model", "does not exist");
        rejects(List.of("evaluate", "--model", csv, "--input", csv), "--model", "neither");
        Path narrow = Files.writeString(tmp.resolve("narrow.csv"), "g0,g1,label\n0.1,0.2,1\n");
        rejects(List.of("evaluate", "--model", model, "--input", narrow.toString()), "--features",
                "'f0' does not exist", "g0");
        Path wide = new Blobs(20, 5, 2, 25).writeCsv(tmp.resolve("wide.csv"));
        rejects(List.of("evaluate", "--model", model, "--input", wide.toString(), "--features", "f0,f1,f2,f3,f4"),
                "5 values per row", "takes 4");
        rejects(List.of("predict", "--model", model, "--input", csv, "--output-format", "orc"), "--output-format",
                "parquet, arrow");
        rejects(List.of("predict", "--model", model, "--input", csv, "--keep", "id"), "--keep", "'id' does not exist");
    }
}
