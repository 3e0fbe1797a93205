package io.sparkgrad.jobs;

import io.sparkgrad.jobs.JobsTestSupport.Result;
import io.sparkgrad.jobs.cli.UsageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --layers} is held to {@code --model-spec}'s limits before Spark starts: a
 * 40000,40000 perceptron (1.6 billion parameters, 6 GiB of weights) used to die of a bare
 * OutOfMemoryError when the trainer built it.
 */
class LayersOptionTest {
    @TempDir
    Path tmp;

    @Test
    void tooManyParametersOrLayersAreRefusedBeforeSparkStarts() throws Exception {
        Path csv = Files.writeString(tmp.resolve("d.csv"), "f0,label\n0.1,0\n0.9,1\n");
        Result r = JobsTestSupport.run("train", "--input", csv.toString(), "--layers", "40000,40000", "--output",
                tmp.resolve("out").toString(), "--progress", "none");
        assertEquals(2, r.code(), r::toString);
        assertEquals("sparkgrad train: --layers: hidden layers of these widths hold at least 1,600,160,001 parameters "
                + "(more with the data's features and classes); at most 50,000,000 are accepted, as for --model-spec",
                r.err().strip(), r::toString);
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    @Test
    void theLimitsAreThoseOfAModelSpec() {
        assertDoesNotThrow(() -> Common.checkLayers(new int[] {256, 128}));
        assertDoesNotThrow(() -> Common.checkLayers(new int[0]));
        assertDoesNotThrow(() -> Common.checkLayers(new int[] {7069, 7069})); // 49,999,038 at least
        assertTrue(assertThrows(UsageException.class, () -> Common.checkLayers(new int[] {7070, 7070})).getMessage()
                .contains("at least 50,013,181 parameters"));
        int[] fifteen = new int[15];
        java.util.Arrays.fill(fifteen, 4);
        assertDoesNotThrow(() -> Common.checkLayers(fifteen));
        int[] sixteen = new int[16];
        java.util.Arrays.fill(sixteen, 4);
        assertEquals("--layers: 16 hidden layers; at most 15 are accepted (with their activations and the output "
                + "layer, 32 layers, as for --model-spec)",
                assertThrows(UsageException.class, () -> Common.checkLayers(sixteen)).getMessage());
    }
}
