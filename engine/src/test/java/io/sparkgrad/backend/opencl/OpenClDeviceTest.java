package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Devices on tensors, moves between them, mixing errors, kernel caching and device memory ownership. */
class OpenClDeviceTest {
    private static final Device CL = OpenClAvailable.DEVICE;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    @Test
    void toDeviceIsDifferentiableAndTheGradientComesBackToTheCpu() {
        Tensor x = Tensor.of(1f, 2f, 3f).requiresGrad_();
        Tensor y = x.to(CL);
        assertEquals(CL, y.device());
        assertEquals("ToCopyBackward0", y.gradFn().name());
        Tensor loss = y.mul(y).sum();
        assertEquals(CL, loss.device());
        loss.backward();
        assertEquals(Device.CPU, x.grad().device());
        assertArrayEquals(new float[] {2f, 4f, 6f}, x.grad().toFloatArray());
        assertSame(y, y.to(CL), "moving to the device it is on is a no-op");
    }

    @Test
    void mixingDevicesNamesTheOpAndBothDevices() {
        Tensor a = Tensor.ones(2, 3).to(CL);
        Tensor b = Tensor.ones(2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().startsWith("add: expected all tensors to be on the same device"), e.getMessage());
        assertTrue(e.getMessage().contains("opencl:0") && e.getMessage().contains("cpu"), e.getMessage());
        IllegalArgumentException mm = assertThrows(IllegalArgumentException.class,
                () -> Tensor.ones(3, 2).matmul(Tensor.ones(2, 2).to(CL)));
        assertTrue(mm.getMessage().startsWith("mm:"), mm.getMessage());
        // A 0-d CPU tensor is a scalar, allowed with any device, as in PyTorch.
        assertArrayEquals(new float[] {3f, 3f}, Tensor.ones(2).to(CL).add(Tensor.scalar(2)).toFloatArray());
    }

    @Test
    void printingSaysWhereTheTensorLives() {
        Tensor t = Tensor.of(1f, 2f).to(CL);
        assertEquals("tensor([1., 2.], device='opencl:0')", t.toString());
        assertEquals(2.0, t.get(1));
        assertEquals(3.0, t.sum().item());
    }

    @Test
    void kernelsCompileOncePerContext() {
        Tensor a = Tensor.randn(16, 8).to(CL);
        a.matmul(a.t()).relu().sum().item();
        long builds = ClOps.programBuilds(CL);
        for (int i = 0; i < 3; i++) {
            Tensor b = Tensor.randn(5 + i, 8).to(CL);
            b.matmul(a.t()).relu().softmax(1).sum().item();
        }
        assertEquals(builds, ClOps.programBuilds(CL), "no program is rebuilt for new shapes");
    }

    @Test
    void scopeReleasesItsBuffersAtCloseAndKeepsWhatItIsAskedTo() {
        Tensor kept;
        Tensor dropped;
        long before = DeviceMemoryScope.deviceLiveBytes(CL);
        try (DeviceMemoryScope scope = DeviceMemoryScope.open(CL)) {
            Tensor x = Tensor.ones(100).to(CL);
            dropped = x.mul(2);
            kept = scope.keep(x.add(1));
            assertTrue(scope.liveBuffers() >= 2, "live buffers are counted");
            assertTrue(scope.liveBytes() >= 2 * 100 * 4);
        }
        assertArrayEquals(new float[] {2f, 2f}, kept.slice(0, 0, 2).toFloatArray());
        IllegalStateException e = assertThrows(IllegalStateException.class, dropped::toFloatArray);
        assertTrue(e.getMessage().contains("released when its DeviceMemoryScope closed"), e.getMessage());
        assertTrue(DeviceMemoryScope.deviceLiveBytes(CL) - before <= 100 * 4 + 64,
                "only the kept buffer is still accounted");
    }

    @Test
    void checkedScopeFindsNoLeakInATrainingStep() {
        Tensor w = Tensor.randn(8, 4).to(CL).requiresGrad_();
        try (DeviceMemoryScope step = DeviceMemoryScope.openChecked(CL)) {
            trainStep(w);
            step.keep(w);
            assertTrue(step.allocatedBuffers() > 5);
        }
        assertEquals(CL, w.grad().device());
        assertEquals(32, w.grad().numel());
    }

    /** In its own frame, so its locals (the batch, the loss and its graph) are unreachable on return. */
    private static void trainStep(Tensor w) {
        Tensor x = Tensor.randn(32, 8).to(CL);
        Tensor loss = F.crossEntropy(x.matmul(w), Tensor.randint(4, 32).to(CL));
        loss.backward();
    }

    @Test
    void checkedScopeReportsMemoryStillReachableAtClose() {
        DeviceMemoryScope scope = DeviceMemoryScope.openChecked(CL);
        Tensor leaked = Tensor.zeros(64).to(CL);
        IllegalStateException e = assertThrows(IllegalStateException.class, scope::close);
        assertTrue(e.getMessage().startsWith("device memory leak: 1 buffer(s), 256 bytes on opencl:0"), e.getMessage());
        assertNotSame(null, leaked);
    }

    @Test
    void droppedTensorsAreFreedByTheCleaner() throws InterruptedException {
        try (DeviceMemoryScope scope = DeviceMemoryScope.open(CL)) {
            for (int i = 0; i < 50; i++) {
                Tensor.ones(1000).to(CL).mul(3).sum();
            }
            assertTrue(scope.allocatedBuffers() >= 150);
            for (int i = 0; i < 50 && scope.liveBuffers() > 0; i++) {
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(0, scope.liveBuffers(), "every dropped buffer was released without a close");
        }
    }

    @Test
    void float64AndInt64TensorsMoveBothWays() {
        Tensor d = Tensor.of(new double[] {1.5, -2.25}, 2).to(CL);
        assertEquals(DType.FLOAT64, d.dtype());
        assertArrayEquals(new double[] {1.5, -2.25}, d.toDoubleArray());
        Tensor l = Tensor.of(new long[] {7, -3, 1L << 40}, 3).to(CL);
        assertArrayEquals(new long[] {7, -3, 1L << 40}, l.toLongArray());
        assertArrayEquals(new float[] {7f, -3f, (float) (1L << 40)}, l.to(DType.FLOAT32).toFloatArray());
    }

    /** A JVM that sees no OpenCL driver (the ICD loader pointed at an empty folder) gets the install hint. */
    @Test
    void withoutAPlatformAskingForOpenClSaysWhatToInstall() throws Exception {
        File empty = Files.createTempDirectory("no-icd").toFile();
        ProcessBuilder pb = new ProcessBuilder(List.of(
                new File(System.getProperty("java.home"), "bin/java").getPath(),
                "-cp", System.getProperty("java.class.path"), NoOpenClProbe.class.getName()));
        pb.environment().put("OCL_ICD_VENDORS", empty.getPath());
        pb.environment().put("OPENCL_VENDOR_PATH", empty.getPath());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("cannot use opencl:0: no OpenCL platform found"), out);
        assertTrue(out.contains("apt-get install pocl-opencl-icd ocl-icd-libopencl1"), out);
        assertTrue(out.contains("cpu still works: 6.0"), out);
    }
}
