package io.sparkgrad.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.sparkgrad.io.TensorBits.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Safetensors files move between PyTorch and Sparkgrad unchanged. PyTorch's side is a committed
 * file written by {@code scripts/safetensors_interop.py} (so this runs without PyTorch); the other
 * direction runs that script on a file Sparkgrad writes, when Debian's {@code python3-torch} is
 * installed.
 */
class SafeTensorsInteropTest {
    private static final String FIXTURE = "/interop/torch_tensors.safetensors";
    private static final String EXPECTED = "/interop/torch_tensors.expected.json";
    private static final Path SCRIPT = Path.of("..", "scripts", "safetensors_interop.py");
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    /** Where the Sparkgrad-written file is left, so the script can also be run on it by hand. */
    static final Path WRITTEN = Path.of("target", "interop", "sparkgrad_written.safetensors");

    private static Path fixture() throws URISyntaxException {
        return Path.of(SafeTensorsInteropTest.class.getResource(FIXTURE).toURI());
    }

    /** The expected tensors, rebuilt from the bit patterns PyTorch reported. */
    private static Map<String, Tensor> expectedTensors() throws IOException {
        JsonNode root;
        try (InputStream in = SafeTensorsInteropTest.class.getResourceAsStream(EXPECTED)) {
            root = new ObjectMapper().readTree(in);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (JsonNode t : root.get("tensors")) {
            int[] shape = new int[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).intValue();
            }
            JsonNode bits = t.get("bits");
            DType dtype = TensorBits.dtypeOfCode(t.get("dtype").textValue());
            Tensor tensor;
            switch (dtype) {
                case FLOAT32: {
                    float[] v = new float[bits.size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = Float.intBitsToFloat(bits.get(i).intValue());
                    }
                    tensor = Tensor.of(v, shape);
                    break;
                }
                case FLOAT64: {
                    double[] v = new double[bits.size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = Double.longBitsToDouble(bits.get(i).longValue());
                    }
                    tensor = Tensor.of(v, shape);
                    break;
                }
                default: {
                    long[] v = new long[bits.size()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = bits.get(i).longValue();
                    }
                    tensor = Tensor.of(v, shape);
                }
            }
            out.put(t.get("name").textValue(), tensor);
        }
        return out;
    }

    @Test
    void everyTensorPyTorchWroteReadsBackBitForBit() throws Exception {
        Map<String, Tensor> expected = expectedTensors();
        assertEquals(13, expected.size(), "the fixture's tensor count");
        SafeTensors.Contents fromFile = SafeTensors.load(fixture());
        SafeTensors.Contents fromStream;
        try (InputStream in = SafeTensorsInteropTest.class.getResourceAsStream(FIXTURE)) {
            fromStream = SafeTensors.read(in, "classpath:" + FIXTURE);
        }
        for (SafeTensors.Contents c : List.of(fromFile, fromStream)) {
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(c.tensors().keySet()), "header order");
            for (Map.Entry<String, Tensor> e : expected.entrySet()) {
                assertSameBits(e.getValue(), c.tensors().get(e.getKey()), e.getKey());
            }
            assertEquals(Map.of("format", "pt", "producer", "scripts/safetensors_interop.py"), c.metadata());
        }
    }

    @Test
    void torchTensorsMeanWhatPyTorchMeant() throws Exception {
        Map<String, Tensor> t = SafeTensors.load(fixture()).tensors();
        Tensor arange = t.get("arange_f32");
        assertArrayEquals(new int[] {2, 3, 4}, arange.shape());
        assertEquals(DType.FLOAT32, arange.dtype());
        assertEquals(1 * 12 + 2 * 4 + 3, arange.get(1, 2, 3));
        // torch.arange(6).reshape(2, 3).t() was written in its logical (row-major) order
        assertArrayEquals(new int[] {3, 2}, t.get("transposed_f32").shape());
        assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, t.get("transposed_f32").toFloatArray());
        assertArrayEquals(new long[] {0, 9, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 40}, t.get("labels_i64").toLongArray());
        assertEquals(0, t.get("scalar_f32").dim());
        assertEquals(3.5, t.get("scalar_f32").item());
        assertEquals(42, t.get("scalar_i64").item());
        assertArrayEquals(new int[] {0, 3}, t.get("empty_f32").shape());
        assertArrayEquals(new int[] {2, 0}, t.get("empty_i64").shape());
        float[] special = t.get("special_f32").toFloatArray();
        assertTrue(Float.isNaN(special[0]));
        assertEquals(Float.POSITIVE_INFINITY, special[1]);
        assertEquals(Float.NEGATIVE_INFINITY, special[2]);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(special[3]));
        assertEquals(Float.MIN_VALUE, special[4]);
        assertEquals(Float.MAX_VALUE, special[5]);
        assertEquals(Float.MIN_NORMAL, special[6]);
        assertEquals(0.1f, special[7]);
        double[] special64 = t.get("special_f64").toDoubleArray();
        assertEquals(Double.MIN_VALUE, special64[4]);
        assertEquals(Double.MAX_VALUE, special64[5]);
        assertEquals(0.1, special64[6]);
        assertArrayEquals(new int[] {1, 2, 1, 3, 2}, t.get("rank5_f64").shape());
    }

    /** The tensors Sparkgrad adds; {@code sparkgrad_tensors()} in the script builds the same in PyTorch. */
    private static Map<String, Tensor> sparkgradTensors() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("sparkgrad.transposed", Tensor.arange(0, 12, 1, DType.FLOAT32).reshape(3, 4).t());
        m.put("sparkgrad.eighths_f64", Tensor.arange(0, 10, 1, DType.FLOAT64).div(8).reshape(2, 5));
        m.put("sparkgrad.odd_i64", Tensor.of(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10).slice(0, 1, 9, 2));
        m.put("sparkgrad.scalar_f64", Tensor.scalar(-1.25, DType.FLOAT64));
        return m;
    }

    /** Writes the fixture's tensors (as read) plus Sparkgrad's own to {@link #WRITTEN}. */
    private static Map<String, Tensor> writeSparkgradFile() throws Exception {
        Map<String, Tensor> all = new LinkedHashMap<>(SafeTensors.load(fixture()).tensors());
        all.putAll(sparkgradTensors());
        Files.createDirectories(WRITTEN.getParent());
        SafeTensors.save(all, Map.of("format", "pt", "producer", "sparkgrad"), WRITTEN);
        return all;
    }

    @Test
    void theFileSparkgradWritesForPyTorchReadsBackInJava() throws Exception {
        Map<String, Tensor> written = writeSparkgradFile();
        SafeTensors.Contents back = SafeTensors.load(WRITTEN);
        for (Map.Entry<String, Tensor> e : written.entrySet()) {
            assertSameBits(e.getValue().contiguous(), back.tensors().get(e.getKey()), e.getKey());
        }
        assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
                back.tensors().get("sparkgrad.transposed").toFloatArray());
        assertArrayEquals(new long[] {1, 3, 5, 7}, back.tensors().get("sparkgrad.odd_i64").toLongArray());
    }

    @Test
    void pyTorchReadsTheFileSparkgradWrote() throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), "the interop script belongs to the repository: " + SCRIPT.toAbsolutePath());
        assumeTrue(Files.isExecutable(PYTHON) && run(PYTHON.toString(), "-c", "import torch").exitCode == 0,
                "skipped: Debian's /usr/bin/python3 with python3-torch is not installed, so PyTorch cannot check the file");
        writeSparkgradFile();
        Result r = run(PYTHON.toString(), SCRIPT.toString(), "verify", WRITTEN.toString());
        assertEquals(0, r.exitCode, r.output);
        assertTrue(r.output.startsWith("OK: 17 tensors"), r.output);
    }

    private static final class Result {
        final int exitCode;
        final String output;

        Result(int exitCode, String output) {
            this.exitCode = exitCode;
            this.output = output;
        }
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
