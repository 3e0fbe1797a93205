package io.sparkgrad.backend.opencl;

import io.sparkgrad.DType;
import io.sparkgrad.Device;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.optim.Adam;
import io.sparkgrad.optim.AdamW;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.optim.SGD;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * SGD, Adam and AdamW update OpenCL parameters in place on the device ({@link ClOptimizers}) along
 * the CPU's trajectory: the same parameters, gradients and steps on both give the same parameters
 * and state buffers after every step, to float tolerance, and the parameter and its state stay
 * on the device in the storage they started in.
 */
class OpenClOptimizerTest {
    private static final Device CL = OpenClAvailable.DEVICE;

    @BeforeAll
    static void requireOpenCl() {
        OpenClAvailable.assume();
    }

    private record Config(String name, Function<List<Tensor>, Optimizer> make) {
    }

    private static List<Config> configs() {
        List<Config> c = new ArrayList<>();
        c.add(new Config("SGD", p -> new SGD(p, 0.1)));
        c.add(new Config("SGD momentum", p -> new SGD(p, new SGD.Options().lr(0.05).momentum(0.9))));
        c.add(new Config("SGD momentum dampening decay", p -> new SGD(p, new SGD.Options().lr(0.05).momentum(0.8)
                .dampening(0.3).weightDecay(0.01))));
        c.add(new Config("SGD nesterov decay", p -> new SGD(p, new SGD.Options().lr(0.05).momentum(0.9)
                .nesterov(true).weightDecay(0.02))));
        c.add(new Config("SGD maximize", p -> new SGD(p, new SGD.Options().lr(0.05).momentum(0.5).maximize(true))));
        c.add(new Config("Adam", p -> new Adam(p, 0.01)));
        c.add(new Config("Adam decay amsgrad", p -> new Adam(p, new Adam.Options().lr(0.02).weightDecay(0.05)
                .amsgrad(true).betas(0.8, 0.99).eps(1e-6))));
        c.add(new Config("Adam maximize", p -> new Adam(p, new Adam.Options().lr(0.01).maximize(true))));
        c.add(new Config("AdamW", p -> new AdamW(p, 0.01)));
        c.add(new Config("AdamW amsgrad", p -> new AdamW(p, new Adam.Options().lr(0.03).weightDecay(0.1)
                .amsgrad(true))));
        return c;
    }

    @TestFactory
    List<DynamicTest> float64() {
        return run(DType.FLOAT64, 1e-12, 1e-14);
    }

    @TestFactory
    List<DynamicTest> float32() {
        return run(DType.FLOAT32, 1e-5, 1e-6);
    }

    private List<DynamicTest> run(DType dtype, double rtol, double atol) {
        List<DynamicTest> tests = new ArrayList<>();
        for (Config c : configs()) {
            tests.add(dynamicTest(c.name() + " " + dtype, () -> check(c, dtype, rtol, atol)));
        }
        return tests;
    }

    private static void check(Config c, DType dtype, double rtol, double atol) {
        Generator init = new Generator(3);
        Tensor w = Tensor.randn(DType.FLOAT64, init, 37, 5).to(dtype);
        Tensor b = Tensor.randn(DType.FLOAT64, init, 5).to(dtype);
        List<Tensor> cpu = List.of(w.clone().requiresGrad_(), b.clone().requiresGrad_());
        List<Tensor> cl = List.of(w.to(CL).requiresGrad_(), b.to(CL).requiresGrad_());
        Optimizer optCpu = c.make().apply(cpu);
        Optimizer optCl = c.make().apply(cl);
        Object wStorage = cl.get(0).storage();
        int wVersion = cl.get(0).storage().version();
        for (int step = 0; step < 6; step++) {
            Generator gen = new Generator(100 + step);
            // The weight's gradient arrives transposed (a strided view), as from a matrix product's backward.
            Tensor gw = Tensor.randn(DType.FLOAT64, gen, 5, 37).to(dtype);
            Tensor gb = Tensor.randn(DType.FLOAT64, gen, 5).to(dtype);
            // Each gradient also follows its own parameter, so the two trajectories feed back as training does.
            for (List<Tensor> ps : List.of(cpu, cl)) {
                Device d = ps.get(0).device();
                ps.get(0).setGrad(gw.to(d).add(ps.get(0).detach().t().mul(0.3)).t());
                ps.get(1).setGrad(gb.to(d).add(ps.get(1).detach().mul(0.3)));
            }
            optCpu.step();
            optCl.step();
            for (int i = 0; i < cpu.size(); i++) {
                String what = c.name() + " step " + step + " parameter " + i;
                assertEquals(CL, cl.get(i).device(), what + " stays on the device");
                OpenClConformanceTest.assertClose(what, cpu.get(i), cl.get(i), rtol, atol);
                Map<String, Tensor> expected = optCpu.state(cpu.get(i)).buffers();
                Map<String, Tensor> actual = optCl.state(cl.get(i)).buffers();
                assertEquals(expected.keySet(), actual.keySet(), what + " state buffers");
                for (String name : expected.keySet()) {
                    assertEquals(CL, actual.get(name).device(), what + " " + name + " lives on the device");
                    OpenClConformanceTest.assertClose(what + " " + name, expected.get(name), actual.get(name),
                            rtol, atol);
                }
            }
        }
        assertEquals(wStorage, cl.get(0).storage(), "updated in place, in the storage the parameter started in");
        assertNotEquals(wVersion, cl.get(0).storage().version(), "each update moves the version counter");
    }
}
