package io.sparkgrad;

import io.sparkgrad.autograd.Autograd;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.autograd.Graph;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.autograd.SavedTensor;
import io.sparkgrad.functional.F;
import io.sparkgrad.functional.Reduction;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

/**
 * Gradient checks ({@link GradCheck}, float64 central differences) for every differentiable op,
 * on seeded random shapes, with broadcasting between operands of different shapes and ranks and
 * with inputs that arrive transposed, sliced with a step, or expanded; second derivatives for a
 * selection of ops; the adjoint law of expand and sum; and forward values against small hand
 * computations.
 *
 * <p>Each {@code @TestFactory} draws its shapes and values from its own seeded {@link Random}, so
 * every case is reproducible; the name of a case lists its input shapes and layouts.
 */
public class OpGradientTest {
    private static final DType F64 = DType.FLOAT64;
    private static final Reduction[] REDUCTIONS = {Reduction.MEAN, Reduction.SUM, Reduction.NONE};

    /** JUnit makes a new instance per factory, so each factory sees the same sequence on every run. */
    private final Random rng = new Random(0x5A4C6AADL);

    /** Null: check against finite differences; else compare with the CPU on this device ({@link #onDevice}). */
    private Device device;
    private double deviceTol;

    // ================================================================== elementwise

    @TestFactory
    List<DynamicTest> unaryOps() {
        List<Unary> ops = List.of(
                new Unary("neg", NORMAL, Tensor::neg),
                new Unary("exp", NORMAL, Tensor::exp),
                new Unary("log", POSITIVE, Tensor::log),
                new Unary("sqrt", POSITIVE, Tensor::sqrt),
                new Unary("abs", NONZERO, Tensor::abs),
                new Unary("relu", NONZERO, Tensor::relu),
                new Unary("sigmoid", NORMAL, Tensor::sigmoid),
                new Unary("tanh", NORMAL, Tensor::tanh),
                new Unary("pow(2)", NORMAL, x -> x.pow(2)),
                new Unary("pow(3)", NORMAL, x -> x.pow(3)),
                new Unary("pow(0.5)", POSITIVE, x -> x.pow(0.5)),
                new Unary("pow(-1.5)", POSITIVE, x -> x.pow(-1.5)),
                new Unary("pow(0)", NORMAL, x -> x.pow(0)),
                new Unary("clamp(-0.5, 0.5)", awayFrom(-0.5, 0.5), x -> x.clamp(-0.5, 0.5)),
                new Unary("clampMin(0.3)", awayFrom(0.3), x -> x.clampMin(0.3)),
                new Unary("clampMax(-0.2)", awayFrom(-0.2), x -> x.clampMax(-0.2)),
                new Unary("clamp(NaN, 0.4)", awayFrom(0.4), x -> x.clamp(Double.NaN, 0.4)),
                new Unary("add(2.5)", NORMAL, x -> x.add(2.5)),
                new Unary("sub(1.5)", NORMAL, x -> x.sub(1.5)),
                new Unary("rsub(3)", NORMAL, x -> x.rsub(3)),
                new Unary("mul(-1.7)", NORMAL, x -> x.mul(-1.7)),
                new Unary("div(0.8)", NORMAL, x -> x.div(0.8)),
                new Unary("add(x, alpha=-2)", NORMAL, x -> x.add(x.exp(), -2)));
        List<DynamicTest> tests = new ArrayList<>();
        for (Unary op : ops) {
            for (Form form : Form.values()) {
                Tensor x = make(op.values, form, shape(2 + rng.nextInt(2)));
                tests.add(gc(op.name, in -> op.f.apply(in.get(0)), x));
            }
            tests.add(gc(op.name, in -> op.f.apply(in.get(0)), make(op.values, Form.CONTIGUOUS)));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> binaryOps() {
        List<Binary> ops = List.of(
                new Binary("add", NORMAL, NORMAL, Tensor::add),
                new Binary("sub", NORMAL, NORMAL, Tensor::sub),
                new Binary("mul", NORMAL, NORMAL, Tensor::mul),
                new Binary("div", NORMAL, NONZERO, Tensor::div),
                new Binary("pow", POSITIVE, NORMAL, Tensor::pow));
        List<DynamicTest> tests = new ArrayList<>();
        for (Binary op : ops) {
            int k = 0;
            for (int[][] pair : broadcastPairs()) {
                Form[] forms = FORM_PAIRS[k++ % FORM_PAIRS.length];
                tests.add(gc(op.name, in -> op.f.apply(in.get(0), in.get(1)),
                        make(op.left, forms[0], pair[0]), make(op.right, forms[1], pair[1])));
            }
            for (Form[] forms : FORM_PAIRS) {
                int[] s = shape(3);
                tests.add(gc(op.name, in -> op.f.apply(in.get(0), in.get(1)),
                        make(op.left, forms[0], s), make(op.right, forms[1], s)));
            }
            // The same tensor on both sides: the two gradients must add up.
            tests.add(gc(op.name + "(x, x)", in -> op.f.apply(in.get(0), in.get(0)), make(POSITIVE, Form.CONTIGUOUS, 3, 2)));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> where() {
        List<DynamicTest> tests = new ArrayList<>();
        Function<List<Tensor>, Tensor> f = in -> Tensor.where(in.get(0), in.get(1), in.get(2));
        int k = 0;
        for (int[][] pair : broadcastPairs()) {
            Form[] forms = FORM_PAIRS[k++ % FORM_PAIRS.length];
            int[] out = Shapes.broadcast("where", pair[0], pair[1]);
            Tensor cond = mask(partner(out));
            tests.add(gc("where", f, cond, make(NORMAL, forms[0], pair[0]), make(NORMAL, forms[1], pair[1])));
        }
        tests.add(gc("where with a transposed condition", f, mask(4, 3).t(), make(NORMAL, Form.SWAPPED, 3, 4),
                make(NORMAL, Form.ROW_STEPPED, 3, 4)));
        // A float64 condition is data, not a differentiable input.
        int[] s = shape(3);
        Tensor floatCond = Tensor.of(mask(s).toDoubleArray(), s);
        tests.add(gc("where float64 condition", check -> check.constant(0), f, floatCond, make(NORMAL, Form.TRANSPOSED, s),
                make(NORMAL, Form.STEPPED, s)));
        return tests;
    }

    // ================================================================== matrix products

    @TestFactory
    List<DynamicTest> matmul() {
        int m = size();
        int k = size();
        int n = size();
        int b = size();
        int[][][] shapes = {
            {{k}, {k}},
            {{m, k}, {k}},
            {{k}, {k, n}},
            {{m, k}, {k, n}},
            {{1, k}, {k, 1}},
            {{b, m, k}, {b, k, n}},
            {{b, m, k}, {k, n}},
            {{m, k}, {b, k, n}},
            {{b, m, k}, {k}},
            {{k}, {b, k, n}},
            {{2, 1, m, k}, {3, k, n}},
            {{b, 1, m, k}, {1, 2, k, n}},
            {{2, 3, m, k}, {2, 3, k, n}},
            {{2, 3, m, k}, {k, n}},
            {{1, m, k}, {b, k, n}},
            {{2, 3, m, k}, {k}},
            {{k}, {2, 3, k, n}},
        };
        List<DynamicTest> tests = new ArrayList<>();
        int i = 0;
        for (int[][] pair : shapes) {
            tests.add(gc("matmul", in -> in.get(0).matmul(in.get(1)),
                    make(NORMAL, Form.CONTIGUOUS, pair[0]), make(NORMAL, Form.CONTIGUOUS, pair[1])));
            Form[] forms = FORM_PAIRS[1 + i++ % (FORM_PAIRS.length - 1)];
            tests.add(gc("matmul", in -> in.get(0).matmul(in.get(1)),
                    make(NORMAL, forms[0], pair[0]), make(NORMAL, forms[1], pair[1])));
        }
        for (Form[] forms : FORM_PAIRS) {
            tests.add(gc("mm", in -> in.get(0).mm(in.get(1)),
                    make(NORMAL, forms[0], m, k), make(NORMAL, forms[1], k, n)));
        }
        tests.add(gc("mm(x, xᵀ)", in -> in.get(0).mm(in.get(0).t()), make(NORMAL, Form.CONTIGUOUS, m, k)));
        return tests;
    }

    // ================================================================== reductions

    @TestFactory
    List<DynamicTest> sumAndMean() {
        List<DynamicTest> tests = new ArrayList<>();
        int[][] dimSets = {{}, {0}, {1}, {-1}, {0, 2}, {-1, 0}, {0, 1, 2}};
        int f = 0;
        for (int[] dims : dimSets) {
            for (boolean keepDim : new boolean[] {false, true}) {
                Form form = form(f++);
                Tensor x = make(NORMAL, form, shape(3));
                String args = Arrays.toString(dims) + ", keepDim=" + keepDim;
                tests.add(gc("sum(" + args + ")", in -> in.get(0).sum(dims, keepDim), x));
                tests.add(gc("mean(" + args + ")", in -> in.get(0).mean(dims, keepDim), x));
            }
        }
        for (Form form : Form.values()) {
            Tensor x = make(NORMAL, form, shape(3));
            tests.add(gc("sum()", in -> in.get(0).sum(), x));
            tests.add(gc("mean()", in -> in.get(0).mean(), x));
            tests.add(gc("sum(-2)", in -> in.get(0).sum(-2), x));
            tests.add(gc("mean(1)", in -> in.get(0).mean(1), x));
            tests.add(gc("sum(0, keepDim)", in -> in.get(0).sum(0, true), x));
            tests.add(gc("mean(-1, keepDim)", in -> in.get(0).mean(-1, true), x));
        }
        Tensor scalar = make(NORMAL, Form.CONTIGUOUS);
        tests.add(gc("sum() of 0-d", in -> in.get(0).sum(), scalar));
        tests.add(gc("mean() of 0-d", in -> in.get(0).mean(), scalar));
        tests.add(gc("sum(0) of 0-d", in -> in.get(0).sum(0), scalar));
        tests.add(gc("mean(-1, keepDim) of 0-d", in -> in.get(0).mean(-1, true), scalar));
        tests.add(gc("sum over a size-1 dim", in -> in.get(0).sum(1), make(NORMAL, Form.CONTIGUOUS, 3, 1, 2)));
        return tests;
    }

    @TestFactory
    List<DynamicTest> maxima() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Form form : Form.values()) {
            Tensor x = make(DISTINCT, form, shape(3));
            tests.add(gc("max()", in -> in.get(0).max(), x));
            for (int dim : new int[] {0, 1, -1}) {
                for (boolean keepDim : new boolean[] {false, true}) {
                    tests.add(gc("max(" + dim + ", keepDim=" + keepDim + ")", in -> in.get(0).max(dim, keepDim), x));
                }
            }
            for (int[] dims : new int[][] {{0, 2}, {-1, 1}, {1}, {}}) {
                for (boolean keepDim : new boolean[] {false, true}) {
                    tests.add(gc("amax(" + Arrays.toString(dims) + ", keepDim=" + keepDim + ")",
                            in -> in.get(0).amax(dims, keepDim), x));
                }
            }
        }
        tests.add(gc("max() of 1-d", in -> in.get(0).max(), make(DISTINCT, Form.STEPPED, 5)));
        tests.add(gc("max(0) of 1-d", in -> in.get(0).max(0, false), make(DISTINCT, Form.CONTIGUOUS, 5)));
        Tensor scalar = make(NORMAL, Form.CONTIGUOUS);
        tests.add(gc("max() of 0-d", in -> in.get(0).max(), scalar));
        tests.add(gc("max(0) of 0-d", in -> in.get(0).max(0, false), scalar));
        tests.add(gc("max(-1, keepDim) of 0-d", in -> in.get(0).max(-1, true), scalar));
        tests.add(gc("amax([0]) of 0-d", in -> in.get(0).amax(new int[] {0}, true), scalar));
        return tests;
    }

    // ================================================================== shapes and views

    @TestFactory
    List<DynamicTest> viewsAndShapes() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Form form : Form.values()) {
            int[] s = shape(3);
            Tensor x = make(NORMAL, form, s);
            tests.add(gc("reshape(-1, last)", in -> in.get(0).reshape(-1, s[2]), x));
            tests.add(gc("reshape(first, -1)", in -> in.get(0).reshape(s[0], -1), x));
            tests.add(gc("reshape(1, n, 1)", in -> in.get(0).reshape(1, -1, 1), x));
            tests.add(gc("flatten()", in -> in.get(0).flatten(), x));
            tests.add(gc("flatten(1, 2)", in -> in.get(0).flatten(1, 2), x));
            tests.add(gc("flatten(0, -2)", in -> in.get(0).flatten(0, -2), x));
            tests.add(gc("transpose(0, 2)", in -> in.get(0).transpose(0, 2), x));
            tests.add(gc("transpose(-1, -2)", in -> in.get(0).transpose(-1, -2), x));
            tests.add(gc("permute(2, 0, 1)", in -> in.get(0).permute(2, 0, 1), x));
            tests.add(gc("permute(-1, 1, 0)", in -> in.get(0).permute(-1, 1, 0), x));
            tests.add(gc("unsqueeze(0)", in -> in.get(0).unsqueeze(0), x));
            tests.add(gc("unsqueeze(2)", in -> in.get(0).unsqueeze(2), x));
            tests.add(gc("unsqueeze(-1)", in -> in.get(0).unsqueeze(-1), x));
            tests.add(gc("squeeze(1) of size > 1", in -> in.get(0).squeeze(1), x));
            tests.add(gc("slice(0, 1, end)", in -> in.get(0).slice(0, 1, s[0]), x));
            // Long enough dimensions that every stepped slice keeps several elements.
            Tensor y = make(NORMAL, form, size(), 7, 6);
            tests.add(gc("slice(1, 1, 7, 2)", in -> in.get(0).slice(1, 1, 7, 2), y));
            tests.add(gc("slice(-1, -5, -1, 2)", in -> in.get(0).slice(-1, -5, -1, 2), y));
            tests.add(gc("slice(2, -100, 100, 4)", in -> in.get(0).slice(2, -100, 100, 4), y));
            tests.add(gc("slice(1, 2, -1, 3)", in -> in.get(0).slice(1, 2, -1, 3), y));
            tests.add(gc("slice(1, 0, 7, 3).slice(2, 1, 6, 2)", in -> in.get(0).slice(1, 0, 7, 3).slice(2, 1, 6, 2), y));
            tests.add(gc("slice(-2, 5, 2)", in -> in.get(0).slice(-2, 5, 2), y));
            tests.add(gc("narrow(-1, 2, 3)", in -> in.get(0).narrow(-1, 2, 3), y));
            tests.add(gc("narrow(1, 1, 1)", in -> in.get(0).narrow(1, 1, 1), x));
            tests.add(gc("select(0, 1)", in -> in.get(0).select(0, 1), x));
            tests.add(gc("select(-1, -1)", in -> in.get(0).select(-1, -1), x));
            tests.add(gc("select(1, 0).select(0, -1)", in -> in.get(0).select(1, 0).select(0, -1), x));
            tests.add(gc("contiguous()", in -> in.get(0).contiguous(), x));
            tests.add(gc("clone()", in -> in.get(0).clone(), x));
            tests.add(gc("transpose(0, 1).contiguous().view(-1)",
                    in -> in.get(0).transpose(0, 1).contiguous().view(-1), x));
            tests.add(gc("clone().view(n, 1, -1)", in -> in.get(0).clone().view(s[0], 1, -1), x));
            tests.add(gc("expand(2, -1, -1, -1)", in -> in.get(0).expand(2, -1, -1, -1), x));
            Tensor m = make(NORMAL, form, size(), size());
            tests.add(gc("t()", in -> in.get(0).t(), m));
            tests.add(gc("t().t()", in -> in.get(0).t().t(), m));
            tests.add(gc("view(-1)", in -> in.get(0).view(-1), make(NORMAL, Form.CONTIGUOUS, s)));
        }
        for (Form form : Form.values()) {
            Tensor ones = make(NORMAL, form, 3, 1, 4, 1);
            tests.add(gc("squeeze()", in -> in.get(0).squeeze(), ones));
            tests.add(gc("squeeze(1)", in -> in.get(0).squeeze(1), ones));
            tests.add(gc("squeeze(-1)", in -> in.get(0).squeeze(-1), ones));
            tests.add(gc("expand(3, 2, 4, 5)", in -> in.get(0).expand(3, 2, 4, 5), ones));
            tests.add(gc("expand(2, -1, 3, -1, 2)", in -> in.get(0).expand(2, -1, 3, -1, 2), ones));
            Tensor target = Tensor.zeros(F64, 2, 3, 6, 4, 2);
            tests.add(gc("expandAs", in -> in.get(0).expandAs(target), ones));
        }
        // view() needs a compatible layout, not a contiguous one.
        tests.add(gc("t().view(2, 3, 4)", in -> in.get(0).t().view(2, 3, 4), make(NORMAL, Form.CONTIGUOUS, 4, 6)));
        tests.add(gc("view(4, 6)", in -> in.get(0).view(4, 6), make(NORMAL, Form.ROW_STEPPED, 4, 3, 2)));
        tests.add(gc("view(2, 2, 3, 2)", in -> in.get(0).view(2, 2, 3, 2), make(NORMAL, Form.ROW_STEPPED, 4, 3, 2)));
        tests.add(gc("view(12, 5)", in -> in.get(0).view(12, 5), make(NORMAL, Form.STEPPED, 3, 4, 5)));
        tests.add(gc("t() of 1-d", in -> in.get(0).t(), make(NORMAL, Form.STEPPED, 4)));
        tests.add(gc("reshape() of 1 element", in -> in.get(0).reshape(), make(NORMAL, Form.CONTIGUOUS, 1, 1)));
        tests.add(gc("unsqueeze(0) of 0-d", in -> in.get(0).unsqueeze(0), make(NORMAL, Form.CONTIGUOUS)));
        tests.add(gc("expand(3, 2) of 0-d", in -> in.get(0).expand(3, 2), make(NORMAL, Form.CONTIGUOUS)));
        return tests;
    }

    @TestFactory
    List<DynamicTest> dtypeRoundTrip() {
        // float32 rounding would swamp a 1e-6 finite difference, so the inputs are multiples of
        // 2^-8 and so is the step: every value met on the way is exact in float32 too.
        Values dyadic = (r, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = (r.nextInt(512) - 256) / 256.0;
            }
            return v;
        };
        List<DynamicTest> tests = new ArrayList<>();
        for (Form form : Form.values()) {
            Tensor x = make(dyadic, form, shape(2));
            tests.add(gc("to(float32).to(float64)", check -> check.eps(1.0 / 256),
                    in -> in.get(0).to(DType.FLOAT32).to(F64), x));
            tests.add(gc("to(float32).to(float64) * x", check -> check.eps(1.0 / 256),
                    in -> in.get(0).to(DType.FLOAT32).to(F64).mul(in.get(0)), x));
        }
        tests.add(gc("to(float64) of float64", in -> in.get(0).to(F64).mul(2), make(NORMAL, Form.TRANSPOSED, 3, 2)));
        return tests;
    }

    @TestFactory
    List<DynamicTest> catAndStack() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int dim : new int[] {0, 1, -1}) {
            int[] s = shape(3);
            List<Tensor> parts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int[] si = s.clone();
                si[Shapes.wrapDim(dim, 3)] = 1 + rng.nextInt(3);
                parts.add(make(NORMAL, form(i + dim + 3), si));
            }
            tests.add(gc("cat(dim " + dim + ")", in -> Tensor.cat(in, dim), parts.toArray(new Tensor[0])));
            List<Tensor> same = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                same.add(make(NORMAL, form(i + dim + 4), s));
            }
            tests.add(gc("stack(dim " + dim + ")", in -> Tensor.stack(in, dim), same.toArray(new Tensor[0])));
        }
        Tensor a = make(NORMAL, Form.TRANSPOSED, 2, 3);
        tests.add(gc("stack(dim 2)", in -> Tensor.stack(in, 2), a, make(NORMAL, Form.EXPANDED, 2, 3)));
        tests.add(gc("cat(x, x)", in -> Tensor.cat(List.of(in.get(0), in.get(0).mul(2)), 1), a));
        tests.add(gc("cat of one", in -> Tensor.cat(in, 0), make(NORMAL, Form.STEPPED, 3)));
        tests.add(gc("stack of 0-d", in -> Tensor.stack(in, 0), make(NORMAL, Form.CONTIGUOUS), make(NORMAL, Form.CONTIGUOUS)));
        return tests;
    }

    @TestFactory
    List<DynamicTest> gatherAndIndexSelect() {
        List<DynamicTest> tests = new ArrayList<>();
        int f = 0;
        for (int dim : new int[] {0, 1, -1}) {
            for (int rep = 0; rep < 2; rep++) {
                int[] s = shape(3);
                int d = Shapes.wrapDim(dim, 3);
                int[] is = s.clone();
                for (int i = 0; i < 3; i++) {
                    is[i] = i == d ? 1 + rng.nextInt(5) : 1 + rng.nextInt(s[i]);
                }
                Tensor index = indices(s[d], is);
                Tensor x = make(NORMAL, form(f++), s);
                tests.add(gc("gather(dim " + dim + ")", in -> in.get(0).gather(dim, in.get(1)), x, index));
                Tensor rows = indices(s[d], 1 + rng.nextInt(6));
                tests.add(gc("indexSelect(dim " + dim + ")", in -> in.get(0).indexSelect(dim, in.get(1)), x, rows));
            }
        }
        // Every index the same: all of the gradient lands on one element.
        Tensor x = make(NORMAL, Form.CONTIGUOUS, 3, 4);
        tests.add(gc("gather with a transposed index", in -> in.get(0).gather(0, in.get(1)), make(NORMAL, Form.SWAPPED, 3, 4),
                indices(3, 4, 2).t()));
        tests.add(gc("indexSelect repeated", in -> in.get(0).indexSelect(1, in.get(1)), x, Tensor.of(new long[] {2, 2, 2, 2}, 4)));
        tests.add(gc("gather of 1-d", in -> in.get(0).gather(0, in.get(1)), make(NORMAL, Form.STEPPED, 5),
                Tensor.of(new long[] {4, 0, 0, 3, 1, 4}, 6)));
        return tests;
    }

    @TestFactory
    List<DynamicTest> softmaxAndLogSoftmax() {
        List<DynamicTest> tests = new ArrayList<>();
        int f = 0;
        for (int dim : new int[] {0, 1, 2, -1, -2}) {
            for (int rep = 0; rep < 2; rep++) {
                Tensor x = make(NORMAL, form(f++), shape(3));
                tests.add(gc("softmax(" + dim + ")", in -> in.get(0).softmax(dim), x));
                tests.add(gc("logSoftmax(" + dim + ")", in -> in.get(0).logSoftmax(dim), x));
            }
        }
        Tensor v = make(NORMAL, Form.STEPPED, 5);
        tests.add(gc("softmax(0) of 1-d", in -> in.get(0).softmax(0), v));
        tests.add(gc("logSoftmax(-1) of 1-d", in -> in.get(0).logSoftmax(-1), v));
        Tensor big = make(NORMAL, Form.CONTIGUOUS, 3, 4).mul(30);
        tests.add(gc("softmax(1) of large logits", in -> in.get(0).softmax(1), big));
        tests.add(gc("logSoftmax(1) of large logits", in -> in.get(0).logSoftmax(1), big));
        Tensor scalar = make(NORMAL, Form.CONTIGUOUS);
        tests.add(gc("softmax(0) of 0-d", in -> in.get(0).softmax(0), scalar));
        tests.add(gc("logSoftmax(0) of 0-d", in -> in.get(0).logSoftmax(0), scalar));
        return tests;
    }

    /** Operands of different float types: the float64 one is differentiated, the float32 one is a constant. */
    @TestFactory
    List<DynamicTest> mixedDtypes() {
        Tensor c32 = Tensor.of(new float[] {0.5f, -1.25f, 2f}, 3);
        Tensor s32 = Tensor.scalar(1.5, DType.FLOAT32);
        Tensor x = make(NORMAL, Form.SWAPPED, 2, 3);
        // The constant joins its partner's device (itself on the CPU), so the device suites can run these.
        Function<Tensor, Tensor> c = t -> c32.to(t.device());
        return List.of(
                gc("float64 + float32", in -> in.get(0).add(c.apply(in.get(0))), x),
                gc("float32 - float64", in -> c.apply(in.get(0)).sub(in.get(0)), x),
                gc("float64 * float32", in -> in.get(0).mul(c.apply(in.get(0))), x),
                gc("float32 / float64", in -> c.apply(in.get(0)).div(in.get(0)), make(NONZERO, Form.CONTIGUOUS, 2, 3)),
                gc("float64 ^ float32", in -> in.get(0).pow(c.apply(in.get(0))), make(POSITIVE, Form.STEPPED, 2, 3)),
                gc("float64 * float32 0-d", in -> in.get(0).mul(s32), x),
                gc("where(c, float64, float32)", in -> Tensor.where(in.get(1), in.get(0), c.apply(in.get(0))), x, mask(2, 3)),
                gc("cat(float64, float32)", in -> Tensor.cat(List.of(in.get(0), c.apply(in.get(0)).reshape(1, 3)), 0), x),
                gc("mseLoss(float64, float32)", in -> F.mseLoss(in.get(0), c.apply(in.get(0))), x));
    }

    // ================================================================== in place

    /**
     * In-place ops on a tensor inside the graph: it takes the op's history, so the gradient
     * reaches both its old value's inputs and the other operand (or, for copy_, only the source).
     */
    @TestFactory
    List<DynamicTest> inPlaceOps() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Binary> ops = List.of(
                new Binary("add_", NORMAL, NORMAL, Tensor::add_),
                new Binary("sub_", NORMAL, NORMAL, Tensor::sub_),
                new Binary("mul_", NORMAL, NORMAL, Tensor::mul_),
                new Binary("div_", NORMAL, NONZERO, Tensor::div_),
                new Binary("add_(alpha=0.5)", NORMAL, NORMAL, (a, b) -> a.add_(b, 0.5)),
                new Binary("copy_", NORMAL, NORMAL, Tensor::copy_));
        int k = 0;
        for (Binary op : ops) {
            for (int rep = 0; rep < 3; rep++) {
                int[] s = shape(3);
                Form[] forms = FORM_PAIRS[k++ % FORM_PAIRS.length];
                int[] other = rep == 0 ? s : partner(s);
                // pow(2) first (it saves its input, not its output): the in-place op overwrites a
                // non-leaf whose own gradient depends on the value of x.
                tests.add(gc(op.name, in -> op.f.apply(in.get(0).pow(2), in.get(1)),
                        make(op.left, forms[0], s), make(op.right, forms[1], other)));
            }
        }
        for (Form form : Form.values()) {
            Tensor x = make(awayFrom(-1.0 / 3, 0, 1.0 / 3), form, shape(2)); // 1.5·x clear of ±0.5 and 0
            tests.add(gc("clamp_", in -> in.get(0).mul(1.5).clamp_(-0.5, 0.5), x));
            tests.add(gc("relu_", in -> in.get(0).mul(1.5).relu_(), x));
            tests.add(gc("mul_(2).mul_(x)", in -> in.get(0).pow(3).mul_(2).mul_(in.get(0)), x));
            tests.add(gc("add_(1), sub_(3), div_(2)", in -> in.get(0).clone().add_(1).sub_(3).div_(2), x));
        }
        return tests;
    }

    /** Overwriting every element cuts the tensor off from its old history: the gradient must not flow back. */
    @TestFactory
    List<DynamicTest> fillInPlace() {
        Tensor x = make(NORMAL, Form.CONTIGUOUS, 3, 2);
        return List.of(
                gc("clone().fill_(2) * x", in -> in.get(0).clone().fill_(2).mul(in.get(0)), x),
                gc("mul(3).zero_() + x", in -> in.get(0).mul(3).zero_().add(in.get(0)), x));
    }

    // ================================================================== losses

    @TestFactory
    List<DynamicTest> losses() {
        List<DynamicTest> tests = new ArrayList<>();
        int f = 0;
        for (Reduction r : REDUCTIONS) {
            // Binary cross-entropy on logits: both logits and soft targets are differentiable.
            for (int[] s : new int[][] {{size() + 2}, shape(2), shape(3)}) {
                Form form = form(f++);
                tests.add(gc("binaryCrossEntropyWithLogits " + r,
                        in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), r),
                        make(WIDE, form, s), make(PROBABILITY, form(f), s)));
            }
            Tensor logits = make(WIDE, Form.CONTIGUOUS, 4, 3);
            Tensor hardTargets = Tensor.of(new double[] {1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, 4, 3);
            tests.add(gc("binaryCrossEntropyWithLogits " + r + " hard targets (constant)", check -> check.constant(1),
                    in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), r), logits, hardTargets));

            // Cross-entropy: logits [N, C] (and [C]) against class indices.
            for (Form form : Form.values()) {
                int n = 2 + rng.nextInt(4);
                int c = 2 + rng.nextInt(4);
                tests.add(gc("crossEntropy " + r, in -> F.crossEntropy(in.get(0), in.get(1), r),
                        make(WIDE, form, n, c), indices(c, n)));
            }
            tests.add(gc("crossEntropy " + r + " of 1-d", in -> F.crossEntropy(in.get(0), in.get(1), r),
                    make(WIDE, Form.STEPPED, 5), Tensor.of(new long[] {3})));

            // NLL: plain, with class weights, with ignored rows (default and a class index), both.
            for (Form form : Form.values()) {
                int n = 3 + rng.nextInt(3);
                int c = 2 + rng.nextInt(3);
                Tensor x = make(WIDE, form, n, c);
                Tensor t = indices(c, n);
                Tensor w = make(POSITIVE, Form.CONTIGUOUS, c);
                long[] withIgnored = t.toLongArray();
                withIgnored[1] = F.IGNORE_INDEX;
                Tensor ti = Tensor.of(withIgnored, n);
                long[] classIgnored = t.toLongArray();
                classIgnored[0] = 1;
                classIgnored[n - 1] = 0;
                Tensor tc = Tensor.of(classIgnored, n);
                tests.add(gc("nllLoss " + r, in -> F.nllLoss(in.get(0), in.get(1), r), x, t));
                tests.add(gc("nllLoss " + r + " weighted", check -> check.constant(2),
                        in -> F.nllLoss(in.get(0), in.get(1), in.get(2), r, F.IGNORE_INDEX), x, t, w));
                tests.add(gc("nllLoss " + r + " ignoreIndex -100",
                        in -> F.nllLoss(in.get(0), in.get(1), null, r, F.IGNORE_INDEX), x, ti));
                tests.add(gc("nllLoss " + r + " ignoreIndex 1",
                        in -> F.nllLoss(in.get(0), in.get(1), null, r, 1), x, tc));
                tests.add(gc("nllLoss " + r + " weighted, ignoreIndex 1", check -> check.constant(2),
                        in -> F.nllLoss(in.get(0), in.get(1), in.get(2), r, 1), x, tc, w));
            }
            tests.add(gc("nllLoss " + r + " of 1-d", in -> F.nllLoss(in.get(0), in.get(1), r),
                    make(WIDE, Form.CONTIGUOUS, 4), Tensor.of(new long[] {2})));

            // Mean squared error, also between broadcast shapes.
            int k = 0;
            for (int[][] pair : broadcastPairs()) {
                Form[] forms = FORM_PAIRS[k++ % FORM_PAIRS.length];
                tests.add(gc("mseLoss " + r, in -> F.mseLoss(in.get(0), in.get(1), r),
                        make(NORMAL, forms[0], pair[0]), make(NORMAL, forms[1], pair[1])));
            }
        }
        tests.add(gc("binaryCrossEntropyWithLogits default", in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1)),
                make(WIDE, Form.CONTIGUOUS, 3, 2), make(PROBABILITY, Form.CONTIGUOUS, 3, 2)));
        tests.add(gc("crossEntropy default", in -> F.crossEntropy(in.get(0), in.get(1)),
                make(WIDE, Form.TRANSPOSED, 3, 4), indices(4, 3)));
        tests.add(gc("nllLoss default", in -> F.nllLoss(in.get(0), in.get(1)),
                make(WIDE, Form.CONTIGUOUS, 3, 4), indices(4, 3)));
        tests.add(gc("mseLoss default", in -> F.mseLoss(in.get(0), in.get(1)),
                make(NORMAL, Form.CONTIGUOUS, 3, 4), make(NORMAL, Form.TRANSPOSED, 3, 4)));
        return tests;
    }

    // ================================================================== second derivatives

    @TestFactory
    List<DynamicTest> secondDerivatives() {
        List<DynamicTest> tests = new ArrayList<>();
        int[] s = {3, 4};
        tests.add(gg("tanh", in -> in.get(0).tanh(), make(NORMAL, Form.TRANSPOSED, s)));
        tests.add(gg("sigmoid", in -> in.get(0).sigmoid(), make(NORMAL, Form.CONTIGUOUS, s)));
        tests.add(gg("exp", in -> in.get(0).exp(), make(NORMAL, Form.STEPPED, s)));
        tests.add(gg("log", in -> in.get(0).log(), make(POSITIVE, Form.CONTIGUOUS, s)));
        tests.add(gg("sqrt", in -> in.get(0).sqrt(), make(POSITIVE, Form.EXPANDED, s)));
        tests.add(gg("pow(3)", in -> in.get(0).pow(3), make(NORMAL, Form.CONTIGUOUS, s)));
        tests.add(gg("pow(-1.5)", in -> in.get(0).pow(-1.5), make(POSITIVE, Form.TRANSPOSED, s)));
        tests.add(gg("pow(tensor)", in -> in.get(0).pow(in.get(1)),
                make(POSITIVE, Form.CONTIGUOUS, s), make(NORMAL, Form.CONTIGUOUS, 4)));
        tests.add(gg("mul", in -> in.get(0).mul(in.get(1)), make(NORMAL, Form.CONTIGUOUS, s), make(NORMAL, Form.STEPPED, 3, 1)));
        tests.add(gg("mul(x, x)", in -> in.get(0).mul(in.get(0)), make(NORMAL, Form.CONTIGUOUS, s)));
        tests.add(gg("div", in -> in.get(0).div(in.get(1)), make(NORMAL, Form.CONTIGUOUS, s), make(NONZERO, Form.CONTIGUOUS, s)));
        tests.add(gg("abs * x", in -> in.get(0).abs().mul(in.get(0)), make(NONZERO, Form.CONTIGUOUS, s)));
        tests.add(gg("relu * x", in -> in.get(0).relu().mul(in.get(0)), make(NONZERO, Form.CONTIGUOUS, s)));
        tests.add(gg("clamp * x", in -> in.get(0).clamp(-0.5, 0.5).mul(in.get(0)), make(awayFrom(-0.5, 0.5), Form.CONTIGUOUS, s)));
        for (int dim : new int[] {0, -1}) {
            tests.add(gg("softmax(" + dim + ")", in -> in.get(0).softmax(dim), make(NORMAL, Form.TRANSPOSED, 3, 4)));
            tests.add(gg("logSoftmax(" + dim + ")", in -> in.get(0).logSoftmax(dim), make(NORMAL, Form.CONTIGUOUS, 3, 4)));
        }
        tests.add(gg("matmul 1-d·1-d", in -> in.get(0).matmul(in.get(1)), make(NORMAL, Form.CONTIGUOUS, 4), make(NORMAL, Form.STEPPED, 4)));
        tests.add(gg("matmul 2-d·1-d", in -> in.get(0).matmul(in.get(1)), make(NORMAL, Form.TRANSPOSED, 3, 4), make(NORMAL, Form.CONTIGUOUS, 4)));
        tests.add(gg("matmul 2-d·2-d", in -> in.get(0).matmul(in.get(1)), make(NORMAL, Form.CONTIGUOUS, 3, 4), make(NORMAL, Form.TRANSPOSED, 4, 2)));
        tests.add(gg("matmul 3-d·3-d", in -> in.get(0).matmul(in.get(1)), make(NORMAL, Form.CONTIGUOUS, 2, 3, 4), make(NORMAL, Form.CONTIGUOUS, 2, 4, 2)));
        tests.add(gg("matmul x·xᵀ", in -> in.get(0).matmul(in.get(0).t()), make(NORMAL, Form.CONTIGUOUS, 3, 2)));
        tests.add(gg("tanh(matmul)", in -> in.get(0).matmul(in.get(1)).tanh(), make(NORMAL, Form.CONTIGUOUS, 3, 4), make(NORMAL, Form.CONTIGUOUS, 4, 2)));
        tests.add(gg("sum * sum", in -> in.get(0).sum(1, true).mul(in.get(0).mean(0, true)), make(NORMAL, Form.CONTIGUOUS, s)));
        tests.add(gg("amax(1) * x", in -> in.get(0).amax(new int[] {1}, true).mul(in.get(0)), make(DISTINCT, Form.CONTIGUOUS, s)));
        tests.add(gg("max(0) squared", in -> in.get(0).max(0, false).pow(2), make(DISTINCT, Form.CONTIGUOUS, s)));
        tests.add(gg("slice, select, gather squared", in -> in.get(0).slice(1, 0, 4, 2).select(0, 1).pow(2)
                .add(in.get(0).gather(1, in.get(1)).pow(2).sum()), make(NORMAL, Form.CONTIGUOUS, s),
                Tensor.of(new long[] {3, 0, 0, 1, 2, 2}, 3, 2)));
        tests.add(gg("indexSelect squared", in -> in.get(0).indexSelect(0, in.get(1)).pow(2),
                make(NORMAL, Form.CONTIGUOUS, s), Tensor.of(new long[] {2, 0, 2}, 3)));
        tests.add(gg("where squared", in -> Tensor.where(in.get(0), in.get(1), in.get(2)).pow(2),
                mask(3, 4), make(NORMAL, Form.CONTIGUOUS, s), make(NORMAL, Form.CONTIGUOUS, 4)));
        tests.add(gg("cat, expand squared", in -> Tensor.cat(List.of(in.get(0), in.get(1).expand(2, 4)), 0).pow(2),
                make(NORMAL, Form.CONTIGUOUS, s), make(NORMAL, Form.CONTIGUOUS, 1, 4)));
        for (Reduction r : REDUCTIONS) {
            tests.add(gg("crossEntropy " + r, in -> F.crossEntropy(in.get(0), in.get(1), r),
                    make(WIDE, Form.CONTIGUOUS, 4, 3), indices(3, 4)));
            tests.add(gg("binaryCrossEntropyWithLogits " + r, in -> F.binaryCrossEntropyWithLogits(in.get(0), in.get(1), r),
                    make(WIDE, Form.CONTIGUOUS, 4, 3), make(PROBABILITY, Form.CONTIGUOUS, 4, 3)));
            tests.add(gg("mseLoss " + r, in -> F.mseLoss(in.get(0), in.get(1), r),
                    make(NORMAL, Form.CONTIGUOUS, 4, 3), make(NORMAL, Form.CONTIGUOUS, 3)));
            tests.add(gg("nllLoss(logSoftmax) " + r, in -> F.nllLoss(in.get(0).logSoftmax(1), in.get(1), r),
                    make(WIDE, Form.CONTIGUOUS, 4, 3), indices(3, 4)));
        }
        return tests;
    }

    // ================================================================== laws

    /** {@code <expand(x), y> == <x, sumToShape(y)>}: sum-to-shape is the adjoint of broadcasting. */
    @Test
    void expandAndSumToShapeAreAdjoint() {
        int[][][] cases = {
            {{3, 1}, {3, 4}},
            {{1, 4}, {2, 5, 3, 4}},
            {{}, {2, 3}},
            {{2, 1, 3}, {4, 2, 5, 3}},
            {{1}, {6}},
            {{2, 3}, {2, 3}},
            {{1, 1, 1}, {2, 3, 4}},
            {partner(new int[] {3, 2, 4}), {3, 2, 4}},
            {partner(new int[] {2, 2, 3, 2}), {2, 2, 3, 2}},
        };
        for (int[][] c : cases) {
            Tensor x = make(NORMAL, Form.CONTIGUOUS, c[0]);
            Tensor y = make(NORMAL, Form.CONTIGUOUS, c[1]);
            double lhs = dot(x.expand(c[1]), y);
            double rhs = dot(x, y.sumToShape(c[0]));
            assertEquals(rhs, lhs, 1e-12 * (1 + Math.abs(rhs)),
                    "<expand(x), y> vs <x, sumToShape(y)> for " + Shapes.str(c[0]) + " -> " + Shapes.str(c[1]));
            // The same law as autograd sees it: the VJP of expand with y is sumToShape(y).
            Tensor leaf = x.detach().requiresGrad_();
            Tensor vjp = Autograd.grad(List.of(leaf.expand(c[1])), List.of(leaf), List.of(y), false, false).get(0);
            assertArrayEquals(y.sumToShape(c[0]).toDoubleArray(), vjp.toDoubleArray(), 1e-12,
                    "VJP of expand " + Shapes.str(c[0]) + " -> " + Shapes.str(c[1]));
            assertArrayEquals(c[0], vjp.shape());
        }
    }

    /** A broadcasting op's VJP is sumToShape of the full-shape gradient, whichever operand broadcasts. */
    @Test
    void broadcastGradientsAreSummedToTheInputShape() {
        Tensor a = make(NORMAL, Form.CONTIGUOUS, 3, 1).requiresGrad_();
        Tensor b = make(NORMAL, Form.CONTIGUOUS, 4).requiresGrad_();
        Tensor g = make(NORMAL, Form.CONTIGUOUS, 3, 4);
        List<Tensor> grads = Autograd.grad(List.of(a.mul(b)), List.of(a, b), List.of(g), false, false);
        assertArrayEquals(g.mul(b.detach()).sumToShape(new int[] {3, 1}).toDoubleArray(), grads.get(0).toDoubleArray(), 1e-12);
        assertArrayEquals(g.mul(a.detach()).sumToShape(new int[] {4}).toDoubleArray(), grads.get(1).toDoubleArray(), 1e-12);
    }

    /** Every elementwise kernel gives the same numbers whatever the layout of its input. */
    @Test
    void kernelsDoNotDependOnLayout() {
        List<UnaryOperator<Tensor>> fs = List.of(Tensor::neg, Tensor::exp, Tensor::abs, Tensor::relu, Tensor::sigmoid,
                Tensor::tanh, x -> x.pow(2), x -> x.clamp(-0.3, 0.4), x -> x.mul(x), x -> x.softmax(0),
                x -> x.logSoftmax(1), x -> x.sum(new int[] {0, 2}, false), x -> x.amax(new int[] {1}, false),
                x -> x.max(2, false), x -> x.reshape(-1), x -> x.matmul(x.transpose(1, 2)));
        for (Form form : Form.values()) {
            Tensor x = make(NORMAL, form, 3, 4, 2);
            Tensor dense = Tensor.of(x.toDoubleArray(), x.shape());
            for (int i = 0; i < fs.size(); i++) {
                assertArrayEquals(fs.get(i).apply(dense).toDoubleArray(), fs.get(i).apply(x).toDoubleArray(), 1e-12,
                        "function " + i + " on a " + form + " input");
            }
        }
    }

    // ================================================================== forward values

    @Test
    void arithmeticForward() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.of(new double[] {10, 20}, 2);
        assertValues(new double[] {11, 22, 13, 24}, a.add(b));
        assertValues(new double[] {-9, -18, -7, -16}, a.sub(b));
        assertValues(new double[] {9, 8, 7, 6}, a.rsub(10));
        assertValues(new double[] {10, 40, 30, 80}, a.mul(b));
        assertValues(new double[] {0.1, 0.1, 0.3, 0.2}, a.div(b));
        assertValues(new double[] {1, 4, 9, 16}, a.pow(2));
        assertValues(new double[] {1, 4, 27, 256}, a.pow(a));
        assertValues(new double[] {1, Math.sqrt(2), Math.sqrt(3), 2}, a.sqrt());
        assertValues(new double[] {Math.E, Math.exp(2), Math.exp(3), Math.exp(4)}, a.exp());
        assertValues(new double[] {0, Math.log(2), Math.log(3), Math.log(4)}, a.log());
        Tensor s = Tensor.of(new double[] {-2, -0.5, 0, 1.5}, 4);
        assertValues(new double[] {2, 0.5, 0, 1.5}, s.abs());
        assertValues(new double[] {0, 0, 0, 1.5}, s.relu());
        assertValues(new double[] {-1, -0.5, 0, 1}, s.clamp(-1, 1));
        assertValues(new double[] {-0.5, -0.5, 0, 1.5}, s.clampMin(-0.5));
        assertValues(new double[] {-2, -0.5, 0, 0.25}, s.clampMax(0.25));
        assertEquals(0.5, Tensor.scalar(0, F64).sigmoid().item(), 0);
        assertEquals(1 / (1 + Math.exp(-2)), Tensor.scalar(2, F64).sigmoid().item(), 1e-15);
        assertEquals(Math.tanh(-0.7), Tensor.scalar(-0.7, F64).tanh().item(), 1e-15);
        Tensor cond = Tensor.of(new long[] {1, 0}, 2);
        assertValues(new double[] {1, 20, 3, 20}, Tensor.where(cond, a, b));
    }

    @Test
    void matmulForward() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor b = Tensor.of(new double[] {5, 6, 7, 8}, 2, 2);
        assertValues(new double[] {19, 22, 43, 50}, a.matmul(b));
        assertValues(new double[] {19, 22, 43, 50}, a.mm(b));
        assertValues(new double[] {23, 31, 34, 46}, a.t().matmul(b.t()));
        Tensor u = Tensor.of(new double[] {1, 2, 3}, 3);
        Tensor v = Tensor.of(new double[] {4, 5, 6}, 3);
        Tensor uv = u.matmul(v);
        assertEquals(0, uv.dim());
        assertEquals(32, uv.item(), 0);
        Tensor m = Tensor.of(new double[] {1, 0, 2, 0, 1, -1}, 2, 3);
        assertValues(new double[] {7, -1}, m.matmul(u));
        assertValues(new double[] {4, 5, 3}, Tensor.of(new double[] {4, 5}, 2).matmul(m));
        Tensor batch = Tensor.stack(List.of(a, b), 0);
        Tensor out = batch.matmul(Tensor.of(new double[] {1, 1}, 2));
        assertArrayEquals(new int[] {2, 2}, out.shape());
        assertValues(new double[] {3, 7, 11, 15}, out);
        Tensor bb = batch.matmul(a);
        assertValues(new double[] {7, 10, 15, 22, 23, 34, 31, 46}, bb);
    }

    @Test
    void reductionForward() {
        Tensor x = Tensor.of(new double[] {1, 5, 3, 4, 2, 6}, 2, 3);
        assertEquals(21, x.sum().item(), 0);
        assertEquals(3.5, x.mean().item(), 0);
        assertValues(new double[] {5, 7, 9}, x.sum(0));
        assertValues(new double[] {3, 4}, x.mean(-1));
        assertArrayEquals(new int[] {2, 1}, x.sum(1, true).shape());
        assertValues(new double[] {9, 12}, x.sum(1, true));
        assertEquals(6, x.max().item(), 0);
        assertValues(new double[] {4, 5, 6}, x.max(0, false));
        assertValues(new double[] {5, 6}, x.max(1, false));
        assertArrayEquals(new long[] {1, 2}, x.argmax(1, false).toLongArray());
        assertValues(new double[] {6}, x.amax(new int[] {0, 1}, true).reshape(1));
        assertArrayEquals(new int[] {1, 1}, x.amax(new int[] {0, 1}, true).shape());
        // A 0-d tensor reduces over dim 0 or -1 to itself, as in PyTorch.
        Tensor s = Tensor.scalar(2.5, F64);
        for (Tensor r : List.of(s.sum(0), s.mean(-1, true), s.amax(new int[] {0}, false), s.max(0, true), s.softmax(0).mul(2.5))) {
            assertEquals(0, r.dim());
            assertEquals(2.5, r.item(), 0);
        }
        assertArrayEquals(new long[] {0}, s.argmax(0, true).reshape(1).toLongArray());
        assertEquals(0, s.argmax(-1, false).dim());
    }

    @Test
    void viewForward() {
        Tensor r = Tensor.arange(0, 10, 1, F64);
        assertValues(new double[] {3, 5, 7}, r.slice(0, -7, -1, 2));
        assertValues(new double[] {0, 3, 6, 9}, r.slice(0, -100, 100, 3));
        assertValues(new double[] {2, 3, 4}, r.narrow(0, 2, 3));
        Tensor m = r.slice(0, 0, 6).view(2, 3);
        assertValues(new double[] {0, 3, 1, 4, 2, 5}, m.t());
        assertValues(new double[] {0, 3, 1, 4, 2, 5}, m.t().reshape(-1));
        assertValues(new double[] {3, 4, 5}, m.select(0, -1));
        assertValues(new double[] {1, 4}, m.select(1, 1));
        assertValues(new double[] {0, 1, 2, 0, 1, 2}, m.select(0, 0).expand(2, 3));
        assertArrayEquals(new int[] {3, 1, 2}, m.t().unsqueeze(1).shape());
        assertArrayEquals(new int[] {3, 2}, m.t().unsqueeze(1).squeeze().shape());
        Tensor p = Tensor.arange(0, 24, 1, F64).view(2, 3, 4).permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertEquals(1 * 12 + 2 * 4 + 3, p.get(3, 1, 2), 0);
        Tensor a = Tensor.of(new double[] {1, 2}, 1, 2);
        Tensor b = Tensor.of(new double[] {3, 4, 5, 6}, 2, 2);
        assertValues(new double[] {1, 2, 3, 4, 5, 6}, Tensor.cat(List.of(a, b), 0));
        assertValues(new double[] {1, 3, 2, 4}, Tensor.stack(List.of(Tensor.of(new double[] {1, 2}, 2),
                Tensor.of(new double[] {3, 4}, 2)), 1));
        Tensor g = Tensor.of(new double[] {10, 11, 12, 20, 21, 22}, 2, 3);
        assertValues(new double[] {12, 10, 21, 21}, g.gather(1, Tensor.of(new long[] {2, 0, 1, 1}, 2, 2)));
        assertValues(new double[] {12, 10, 22, 20}, g.indexSelect(1, Tensor.of(new long[] {2, 0}, 2)));
    }

    @Test
    void softmaxForward() {
        double z = Math.exp(1) + Math.exp(2) + Math.exp(3);
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3);
        assertValues(new double[] {Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z}, x.softmax(0));
        assertValues(new double[] {1 - Math.log(z), 2 - Math.log(z), 3 - Math.log(z)}, x.logSoftmax(0));
        // Along dim 0 of a matrix: each column separately; huge logits stay finite.
        Tensor m = Tensor.of(new double[] {0, 1000, Math.log(3), 1000}, 2, 2);
        assertValues(new double[] {0.25, 0.5, 0.75, 0.5}, m.softmax(0));
        assertValues(new double[] {Math.log(0.25), Math.log(0.5), Math.log(0.75), Math.log(0.5)}, m.logSoftmax(0));
    }

    @Test
    void lossForward() {
        Tensor logits = Tensor.of(new double[] {0, 2, -1, 0}, 2, 2);
        Tensor y = Tensor.of(new double[] {1, 0, 0, 0.5}, 2, 2);
        double[] bce = {Math.log(2), 2 + Math.log1p(Math.exp(-2)), Math.log1p(Math.exp(-1)), Math.log(2)};
        assertValues(bce, F.binaryCrossEntropyWithLogits(logits, y, Reduction.NONE));
        assertEquals(Arrays.stream(bce).sum(), F.binaryCrossEntropyWithLogits(logits, y, Reduction.SUM).item(), 1e-12);
        assertEquals(Arrays.stream(bce).sum() / 4, F.binaryCrossEntropyWithLogits(logits, y).item(), 1e-12);
        assertEquals(100, F.binaryCrossEntropyWithLogits(Tensor.scalar(-100, F64), Tensor.scalar(1, F64)).item(), 1e-12);

        Tensor x = Tensor.of(new double[] {1, 2, 3, 1, 1, 1}, 2, 3);
        Tensor t = Tensor.of(new long[] {2, 0}, 2);
        double row0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
        double row1 = Math.log(3);
        assertValues(new double[] {row0, row1}, F.crossEntropy(x, t, Reduction.NONE));
        assertEquals((row0 + row1) / 2, F.crossEntropy(x, t).item(), 1e-12);
        assertEquals(row0 + row1, F.crossEntropy(x, t, Reduction.SUM).item(), 1e-12);

        Tensor lp = Tensor.of(new double[] {-1, -2, -3, -4, -5, -6, -7, -8, -9}, 3, 3);
        Tensor w = Tensor.of(new double[] {1, 2, 3}, 3);
        Tensor tt = Tensor.of(new long[] {1, F.IGNORE_INDEX, 2}, 3);
        assertValues(new double[] {2, 0, 9}, F.nllLoss(lp, tt, null, Reduction.NONE, F.IGNORE_INDEX));
        assertValues(new double[] {4, 0, 27}, F.nllLoss(lp, tt, w, Reduction.NONE, F.IGNORE_INDEX));
        assertEquals(31, F.nllLoss(lp, tt, w, Reduction.SUM, F.IGNORE_INDEX).item(), 1e-12);
        assertEquals(31.0 / 5, F.nllLoss(lp, tt, w, Reduction.MEAN, F.IGNORE_INDEX).item(), 1e-12);
        assertEquals(5.5, F.nllLoss(lp, tt, null, Reduction.MEAN, F.IGNORE_INDEX).item(), 1e-12);
        Tensor tc = Tensor.of(new long[] {1, 0, 2}, 3);
        assertEquals(31.0 / 4, F.nllLoss(lp, tc, w, Reduction.MEAN, 1).item(), 1e-12, "(4·1 + 9·3) / (1 + 3) with class 1 ignored");

        Tensor p = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor q = Tensor.of(new double[] {1, 0}, 2);
        assertValues(new double[] {0, 4, 4, 16}, F.mseLoss(p, q, Reduction.NONE));
        assertEquals(24, F.mseLoss(p, q, Reduction.SUM).item(), 1e-12);
        assertEquals(6, F.mseLoss(p, q).item(), 1e-12);
    }

    @Test
    void gradientsByHand() {
        // d/dx Σ x³ = 3x²; d/dw of Σ (x·w) = xᵀ·1; d/dx max = one-hot.
        Tensor x = Tensor.of(new double[] {1, -2, 3}, 3).requiresGrad_();
        x.pow(3).sum().backward();
        assertValues(new double[] {3, 12, 27}, x.grad());
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
        Tensor w = Tensor.of(new double[] {1, 0, 0, 1}, 2, 2).requiresGrad_();
        a.matmul(w).sum().backward();
        assertValues(new double[] {4, 4, 6, 6}, w.grad());
        Tensor m = Tensor.of(new double[] {1, 7, 3}, 3).requiresGrad_();
        m.max().backward();
        assertValues(new double[] {0, 1, 0}, m.grad());
        Tensor ties = Tensor.of(new double[] {5, 1, 5}, 3).requiresGrad_();
        ties.max().backward();
        assertValues(new double[] {0.5, 0, 0.5}, ties.grad());
    }

    // ================================================================== GradCheck itself

    /** A deliberately wrong gradient must be caught, and the report must say where. */
    @Test
    void gradCheckCatchesAWrongGradient() {
        Tensor x = make(NONZERO, Form.TRANSPOSED, 3, 2);
        GradCheck.of("square").check(in -> Square.apply(in.get(0), 2, false), x);
        GradCheck.of("square").checkSecondOrder(in -> Square.apply(in.get(0), 2, false), x);
        AssertionError e = assertThrows(AssertionError.class,
                () -> GradCheck.of("square").check(in -> Square.apply(in.get(0), 3, false), x));
        assertTrue(e.getMessage().contains("square"), e.getMessage());
        assertTrue(e.getMessage().contains("input 0, element [0, 0]"), e.getMessage());
        assertTrue(e.getMessage().contains("analytic") && e.getMessage().contains("numeric"), e.getMessage());
        // Right first derivative, but computed outside the graph: only the second-order check can tell.
        GradCheck.of("square").check(in -> Square.apply(in.get(0), 2, true), x);
        AssertionError second = assertThrows(AssertionError.class,
                () -> GradCheck.of("square").checkSecondOrder(in -> Square.apply(in.get(0), 2, true), x));
        assertTrue(second.getMessage().contains("second order"), second.getMessage());
    }

    @Test
    void gradCheckRejectsFloat32AndLeavesItsInputsAlone() {
        assertThrows(IllegalArgumentException.class,
                () -> GradCheck.gradcheck("exp", in -> in.get(0).exp(), Tensor.randn(3)));
        Tensor x = make(NORMAL, Form.EXPANDED, 3, 2);
        double[] before = x.toDoubleArray();
        GradCheck.gradcheck("exp", in -> in.get(0).exp(), x);
        assertArrayEquals(before, x.toDoubleArray(), 0);
        assertTrue(!x.requiresGrad() && x.grad() == null);
    }

    /**
     * {@code x²} with a backward that multiplies by {@code factor} instead of 2 (wrong unless 2),
     * and, when {@code detached}, that reads its saved input outside the graph (so its own
     * derivative is lost).
     */
    private static final class Square extends Node {
        private SavedTensor input;
        private double factor;
        private boolean detached;

        private Square() {
            super("SquareBackward0");
        }

        static Tensor apply(Tensor x, double factor, boolean detached) {
            Tensor out;
            try (var g = GradMode.noGrad()) {
                out = x.detach().mul(x.detach());
            }
            if (Graph.needsGrad(x)) {
                Square node = new Square();
                node.input = node.save(x);
                node.factor = factor;
                node.detached = detached;
                Graph.record(node, out, x);
            }
            return out;
        }

        @Override
        protected Tensor[] backward(Tensor grad) {
            Tensor x = detached ? input.unpack().detach() : input.unpack();
            return new Tensor[] {grad.mul(x).mul(factor)};
        }
    }

    // ================================================================== inputs

    /** How an input is laid out over its storage. */
    private enum Form {
        CONTIGUOUS,
        /** All dimensions reversed (rank ≥ 2; a 1-d input is stepped instead). */
        TRANSPOSED,
        /** The last two dimensions swapped, as {@code mT} (rank ≥ 2; a 1-d input is stepped instead). */
        SWAPPED,
        /** Every other element of a longer last dimension, from offset 1. */
        STEPPED,
        /** Every other row of a longer first dimension, from offset 1 row (rows keep unit stride). */
        ROW_STEPPED,
        /** One dimension broadcast from size 1 with stride 0. */
        EXPANDED
    }

    private static Form form(int i) {
        return Form.values()[Math.floorMod(i, Form.values().length)];
    }

    /** Operand layouts for two-input ops: plain first, then mixes of views. */
    private static final Form[][] FORM_PAIRS = {
        {Form.CONTIGUOUS, Form.CONTIGUOUS},
        {Form.TRANSPOSED, Form.STEPPED},
        {Form.EXPANDED, Form.SWAPPED},
        {Form.STEPPED, Form.EXPANDED},
        {Form.SWAPPED, Form.ROW_STEPPED},
        {Form.ROW_STEPPED, Form.TRANSPOSED},
        {Form.CONTIGUOUS, Form.SWAPPED},
        {Form.EXPANDED, Form.CONTIGUOUS},
    };

    /** A seeded source of {@code n} values of one kind. */
    private interface Values {
        double[] sample(Random r, int n);
    }

    private static Values each(java.util.function.ToDoubleFunction<Random> one) {
        return (r, n) -> {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = one.applyAsDouble(r);
            }
            return v;
        };
    }

    private static final Values NORMAL = each(Random::nextGaussian);
    private static final Values WIDE = each(r -> 2 * r.nextGaussian());
    private static final Values POSITIVE = each(r -> 0.5 + 1.5 * r.nextDouble());
    /** Magnitudes in [0.2, 2): clear of the kink of abs and relu at 0 (and of division by 0). */
    private static final Values NONZERO = each(r -> (r.nextBoolean() ? 1 : -1) * (0.2 + 1.8 * r.nextDouble()));
    private static final Values PROBABILITY = each(r -> 0.05 + 0.9 * r.nextDouble());
    /** Distinct values at least 0.09 apart, shuffled, so a maximum never ties with another element. */
    private static final Values DISTINCT = (r, n) -> {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.1 * (i - n / 2.0) + 0.01 * r.nextDouble();
        }
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    };

    /** Normal values at least 0.05 away from every kink (clamp bounds). */
    private static Values awayFrom(double... kinks) {
        return each(r -> {
            while (true) {
                double v = r.nextGaussian();
                boolean clear = true;
                for (double k : kinks) {
                    clear &= Math.abs(v - k) > 0.05;
                }
                if (clear) {
                    return v;
                }
            }
        });
    }

    /** A float64 tensor of {@code shape} with fresh values, laid out as {@code form} asks. */
    private Tensor make(Values values, Form form, int... shape) {
        int rank = shape.length;
        switch (form) {
            case TRANSPOSED:
                if (rank >= 2) {
                    int[] reversed = new int[rank];
                    int[] perm = new int[rank];
                    for (int d = 0; d < rank; d++) {
                        reversed[d] = shape[rank - 1 - d];
                        perm[d] = rank - 1 - d;
                    }
                    return filled(values, reversed).permute(perm);
                }
                return make(values, Form.STEPPED, shape);
            case SWAPPED:
                if (rank >= 2) {
                    int[] swapped = shape.clone();
                    swapped[rank - 2] = shape[rank - 1];
                    swapped[rank - 1] = shape[rank - 2];
                    return filled(values, swapped).transpose(-1, -2);
                }
                return make(values, Form.STEPPED, shape);
            case STEPPED:
                if (rank >= 1) {
                    int[] longer = shape.clone();
                    longer[rank - 1] = 2 * shape[rank - 1] + 1;
                    return filled(values, longer).slice(-1, 1, longer[rank - 1], 2);
                }
                return filled(values, shape);
            case ROW_STEPPED:
                if (rank >= 1) {
                    int[] longer = shape.clone();
                    longer[0] = 2 * shape[0] + 1;
                    return filled(values, longer).slice(0, 1, longer[0], 2);
                }
                return filled(values, shape);
            case EXPANDED:
                List<Integer> wide = new ArrayList<>();
                for (int d = 0; d < rank; d++) {
                    if (shape[d] > 1) {
                        wide.add(d);
                    }
                }
                if (!wide.isEmpty()) {
                    int[] narrow = shape.clone();
                    narrow[wide.get(rng.nextInt(wide.size()))] = 1;
                    return filled(values, narrow).expand(shape);
                }
                return filled(values, shape);
            default:
                return filled(values, shape);
        }
    }

    private Tensor filled(Values values, int[] shape) {
        return Tensor.of(values.sample(rng, Shapes.numel(shape)), shape);
    }

    /** Random class or gather indices in {@code [0, bound)}. */
    private Tensor indices(int bound, int... shape) {
        long[] v = new long[Shapes.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextInt(bound);
        }
        return Tensor.of(v, shape);
    }

    /** A random int64 0/1 condition. */
    private Tensor mask(int... shape) {
        return indices(2, shape);
    }

    private int size() {
        return 2 + rng.nextInt(3);
    }

    private int[] shape(int rank) {
        int[] s = new int[rank];
        for (int d = 0; d < rank; d++) {
            s[d] = size();
        }
        return s;
    }

    /** A shape that broadcasts to {@code s} and differs from it: leading dimensions dropped, some sizes 1. */
    private int[] partner(int[] s) {
        int drop = rng.nextInt(s.length);
        int[] p = Arrays.copyOfRange(s, drop, s.length);
        for (int d = 0; d < p.length; d++) {
            if (rng.nextInt(3) == 0) {
                p[d] = 1;
            }
        }
        if (Arrays.equals(p, s)) {
            p[rng.nextInt(p.length)] = 1;
        }
        return p;
    }

    /** Operand shapes for broadcasting binary ops: equal, either side smaller, both broadcast, 0-d. */
    private List<int[][]> broadcastPairs() {
        List<int[][]> pairs = new ArrayList<>();
        int[] s = shape(3);
        pairs.add(new int[][] {s, s});
        pairs.add(new int[][] {s, partner(s)});
        int[] t = shape(3);
        pairs.add(new int[][] {partner(t), t});
        int[] u = shape(3);
        int[] left = u.clone();
        left[1] = 1;
        int[] right = {u[1], 1};
        pairs.add(new int[][] {left, right});
        int[] v = shape(4);
        pairs.add(new int[][] {{v[3]}, v});
        pairs.add(new int[][] {{}, shape(2)});
        pairs.add(new int[][] {shape(2), {}});
        pairs.add(new int[][] {{1, 1}, shape(3)});
        return pairs;
    }

    // ================================================================== helpers

    /** One first-order gradient check, named after the op and its inputs' shapes and layouts. */
    private DynamicTest gc(String op, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return gc(op, check -> check, f, inputs);
    }

    /**
     * As {@link #gc(String, Function, Tensor...)} with settings (constant inputs, step) changed; on
     * a {@link #device}, the same case compared with the CPU instead of finite differences.
     */
    private DynamicTest gc(String op, UnaryOperator<GradCheck> settings, Function<List<Tensor>, Tensor> f,
                           Tensor... inputs) {
        String name = op + " " + describe(inputs);
        if (device != null) {
            Device on = device;
            return dynamicTest(name, () -> settings.apply(GradCheck.of(name)).checkOnDevice(on, deviceTol, f, inputs));
        }
        return dynamicTest(name, () -> settings.apply(GradCheck.of(name)).check(f, inputs));
    }

    private DynamicTest gg(String op, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        String name = op + " " + describe(inputs);
        if (device != null) {
            Device on = device;
            return dynamicTest("second order: " + name,
                    () -> GradCheck.of(name).checkSecondOrderOnDevice(on, deviceTol, f, inputs));
        }
        return dynamicTest("second order: " + name, () -> GradCheck.gradgradcheck(name, f, inputs));
    }

    /**
     * Every {@code @TestFactory} of this class, each from a fresh instance (as JUnit builds them, so
     * the seeded shapes and values are the same), with each case run on the CPU and with its inputs
     * on {@code device} and compared within {@code tol} absolute plus relative, instead of against
     * finite differences. The hand-computed {@code @Test}s are not included. Backend suites call this.
     */
    public static Stream<DynamicNode> onDevice(Device device, double tol) {
        List<DynamicNode> groups = new ArrayList<>();
        for (Method m : OpGradientTest.class.getDeclaredMethods()) {
            if (!m.isAnnotationPresent(TestFactory.class)) {
                continue;
            }
            OpGradientTest suite = new OpGradientTest();
            suite.device = device;
            suite.deviceTol = tol;
            try {
                @SuppressWarnings("unchecked")
                List<DynamicTest> cases = (List<DynamicTest>) m.invoke(suite);
                groups.add(DynamicContainer.dynamicContainer(m.getName(), cases));
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot build " + m.getName(), e);
            }
        }
        groups.sort(Comparator.comparing(DynamicNode::getDisplayName));
        return groups.stream();
    }

    private static String describe(Tensor... inputs) {
        StringBuilder sb = new StringBuilder();
        for (Tensor t : inputs) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(t.dtype() == DType.INT64 ? "int64 " : "").append(Shapes.str(t.shape()));
            if (!t.isContiguous()) {
                boolean expanded = false;
                for (int d = 0; d < t.dim(); d++) {
                    expanded |= t.stride(d) == 0 && t.size(d) > 1;
                }
                sb.append(expanded ? " expanded" : " strided");
            }
        }
        return sb.toString();
    }

    private static double dot(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    private static void assertValues(double[] expected, Tensor actual) {
        assertArrayEquals(expected, actual.toDoubleArray(), 1e-12, () -> "values of " + actual);
    }

    private record Unary(String name, Values values, UnaryOperator<Tensor> f) {
    }

    private record Binary(String name, Values left, Values right, java.util.function.BinaryOperator<Tensor> f) {
    }
}
