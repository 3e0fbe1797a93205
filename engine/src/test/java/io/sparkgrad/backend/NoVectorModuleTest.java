package io.sparkgrad.backend;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Vector API is optional at run time: a JVM started without
 * {@code --add-modules jdk.incubator.vector} still runs the engine (scalar kernels) and says so once.
 */
class NoVectorModuleTest {

    @Test
    void theTutorialRunsWithoutTheIncubatorModule() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dsparkgrad.blas=auto", "io.sparkgrad.examples.AutogradTutorial");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output;
        try (InputStream in = p.getInputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            output = buf.toString(StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), output);
        assertTrue(output.contains("the Vector API is not enabled"), output);
        assertEquals(1, count(output, "the Vector API is not enabled"), "said once: " + output);
        assertTrue(output.contains("Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0>"), output);
        for (String row : List.of("tensor([[8., 4., 4., 4., 4.],", "        [4., 4., 4., 4., 8.]])")) {
            assertTrue(output.contains(row), output);
        }
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
