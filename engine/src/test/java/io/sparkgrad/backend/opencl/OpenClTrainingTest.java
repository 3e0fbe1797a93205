package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.nn.Conv2d;
import io.sparkgrad.nn.Flatten;
import io.sparkgrad.nn.Linear;
import io.sparkgrad.nn.MaxPool2d;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.Parameter;
import io.sparkgrad.nn.ReLU;
import io.sparkgrad.nn.Sequential;
import io.sparkgrad.optim.Adam;
import io.sparkgrad.optim.Optimizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nn models train on OpenCL exactly as on the CPU: same losses and parameters step by step. */
class OpenClTrainingTest {
    private static final Device CL = OpenClAvailable.DEVICE;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    @Test
    void mlpTrainsTheSameOnOpenClAsOnTheCpu() {
        Supplier<Module> build = () -> {
            Generator g = new Generator(11);
            return new Sequential(new Linear(20, 16, true, g), new ReLU(), new Linear(16, 4, true, g));
        };
        compareTraining(build, new int[] {32, 20});
    }

    @Test
    void smallCnnTrainsTheSameOnOpenClAsOnTheCpu() {
        Supplier<Module> build = () -> {
            Generator g = new Generator(12);
            return new Sequential(new Conv2d(1, 3, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, true, g), new ReLU(), new Flatten(),
                    new Linear(3 * 6 * 6, 4, true, g));
        };
        compareTraining(build, new int[] {8, 1, 6, 6});
    }

    @Test
    void cnnWithMaxPoolTrainsTheSameOnOpenClAsOnTheCpu() {
        Supplier<Module> build = () -> {
            Generator g = new Generator(13);
            return new Sequential(new Conv2d(1, 4, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, true, g),
                    new ReLU(), new MaxPool2d(2), new Conv2d(4, 4, new int[] {3, 3}, new int[] {1, 1},
                    new int[] {1, 1}, true, g), new ReLU(), new MaxPool2d(3, 2, 1), new Flatten(),
                    new Linear(4 * 2 * 2, 4, true, g));
        };
        compareTraining(build, new int[] {8, 1, 8, 8});
    }

    private static void compareTraining(Supplier<Module> build, int[] inputShape) {
        Module cpu = build.get();
        Module cl = build.get().to(CL);
        for (Parameter p : cl.parameters()) {
            assertEquals(CL, p.device());
        }
        Optimizer optCpu = new Adam(cpu.parameters(), 0.01);
        Optimizer optCl = new Adam(cl.parameters(), 0.01);
        Generator data = new Generator(5);
        Tensor x = Tensor.randn(DType.FLOAT32, data, inputShape);
        long[] labels = new long[inputShape[0]];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = data.nextInt(4);
        }
        Tensor y = Tensor.of(labels, labels.length);
        Tensor xCl = x.to(CL);
        Tensor yCl = y.to(CL);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 8; step++) {
            optCpu.zeroGrad();
            optCl.zeroGrad();
            Tensor lossCpu = F.crossEntropy(cpu.forward(x), y);
            Tensor lossCl = F.crossEntropy(cl.forward(xCl), yCl);
            lossCpu.backward();
            lossCl.backward();
            optCpu.step();
            optCl.step();
            assertEquals(lossCpu.item(), lossCl.item(), 1e-4 * Math.abs(lossCpu.item()) + 1e-5, "loss at step " + step);
            first = step == 0 ? lossCl.item() : first;
            last = lossCl.item();
        }
        assertTrue(last < first, "training on OpenCL lowers the loss: " + first + " -> " + last);
        List<Parameter> pc = cpu.parameters();
        List<Parameter> pl = cl.parameters();
        for (int i = 0; i < pc.size(); i++) {
            assertEquals(CL, pl.get(i).device(), "parameter " + i + " stays on the device");
            OpenClConformanceTest.assertClose("parameter " + i, pc.get(i), pl.get(i), 1e-3, 1e-4);
        }
    }
}
