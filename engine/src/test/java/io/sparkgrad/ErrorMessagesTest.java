package io.sparkgrad;

import io.sparkgrad.functional.F;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an exception whose message names the op, the shapes and what to do. */
class ErrorMessagesTest {

    private static String message(Class<? extends Throwable> type, Executable call) {
        return assertThrows(type, call).getMessage();
    }

    private static void assertContains(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected \"" + p + "\" in: " + message);
        }
    }

    @Test
    void matmulNamesBothShapes() {
        String m = message(IllegalArgumentException.class, () -> Tensor.ones(1, 5).matmul(Tensor.ones(4, 3)));
        assertContains(m, "matmul: cannot multiply [1, 5] by [4, 3]");
        assertContains(message(IllegalArgumentException.class, () -> Tensor.ones(2, 3).mm(Tensor.ones(3))),
                "mm: cannot multiply [2, 3] by [3]");
        assertContains(message(IllegalArgumentException.class, () -> Tensor.ones(2, 2, 3).matmul(Tensor.ones(3, 2, 4))),
                "matmul", "[2, 2, 3]", "[3, 2, 4]");
    }

    @Test
    void broadcastingFailureNamesOpAndShapes() {
        String m = message(IllegalArgumentException.class, () -> Tensor.ones(2, 3).add(Tensor.ones(4)));
        assertContains(m, "add", "[2, 3]", "[4]", "cannot be broadcast");
    }

    @Test
    void backwardOnANonScalarNeedsAGradient() {
        Tensor x = Tensor.ones(3).requiresGrad_();
        String m = message(IllegalArgumentException.class, () -> x.mul(2).backward());
        assertContains(m, "grad can be implicitly created only for scalar outputs", "[3]");
    }

    @Test
    void aGradientOfTheWrongShapeIsRefused() {
        Tensor x = Tensor.ones(5, 5).requiresGrad_();
        Tensor out = x.add(1);
        String m = message(IllegalArgumentException.class, () -> out.backward(Tensor.ones(3)));
        assertContains(m, "Mismatch in shape", "[3]", "[5, 5]");
    }

    @Test
    void aGradientOfTheWrongDtypeIsRefused() {
        Tensor x = Tensor.ones(2).requiresGrad_();
        String m = message(IllegalArgumentException.class, () -> x.mul(2).backward(Tensor.ones(DType.FLOAT64, 2)));
        assertContains(m, "Mismatch in dtype", "float64", "float32");
    }

    @Test
    void backwardOnATensorOutsideTheGraph() {
        String m = message(IllegalStateException.class, () -> Tensor.ones(1).mul(2).sum().backward());
        assertContains(m, "does not require grad");
    }

    @Test
    void matmulRefusesMixedDtypes() {
        String m = message(IllegalArgumentException.class,
                () -> Tensor.ones(2, 2).matmul(Tensor.ones(DType.FLOAT64, 2, 2)));
        assertContains(m, "matmul", "same dtype", "float32", "float64", "to(DType.FLOAT64)");
    }

    @Test
    void integerTensorsCannotEnterFloatMathOrRequireGrad() {
        Tensor idx = Tensor.of(new long[] {1, 2}, 2);
        assertContains(message(IllegalArgumentException.class, () -> idx.exp()), "exp", "int64");
        assertContains(message(IllegalArgumentException.class, idx::requiresGrad_), "int64");
    }

    @Test
    void reshapeAndViewExplainWhatIsWrong() {
        assertContains(message(IllegalArgumentException.class, () -> Tensor.ones(2, 3).reshape(4, 2)),
                "reshape", "[4, 2]", "size 6");
        assertContains(message(IllegalArgumentException.class, () -> Tensor.ones(2, 3).t().view(6)),
                "view", "reshape(...) instead");
        assertContains(message(IllegalArgumentException.class, () -> Tensor.ones(2, 3).reshape(-1, -1)),
                "only one dimension can be inferred");
    }

    @Test
    void indicesOutOfRangeNameThePosition() {
        Tensor x = Tensor.ones(2, 3);
        assertContains(message(IndexOutOfBoundsException.class, () -> x.gather(1, Tensor.of(new long[] {0, 3}, 2, 1))),
                "gather", "index 3", "size 3");
        assertContains(message(IndexOutOfBoundsException.class, () -> x.select(0, 2)), "index 2", "size 2");
        assertContains(message(IndexOutOfBoundsException.class, () -> x.sum(2)), "dimension 2", "rank 2");
        assertContains(message(IndexOutOfBoundsException.class,
                () -> F.crossEntropy(Tensor.ones(2, 3), Tensor.of(new long[] {0, 7}, 2))),
                "target 7 at row 1", "3 classes");
    }

    @Test
    void lossesCheckTheirTargets() {
        assertContains(message(IllegalArgumentException.class,
                () -> F.binaryCrossEntropyWithLogits(Tensor.ones(3), Tensor.ones(4))),
                "target size [4]", "input size [3]");
        assertContains(message(IllegalArgumentException.class,
                () -> F.crossEntropy(Tensor.ones(2, 3), Tensor.ones(2))), "int64");
        assertContains(message(IllegalArgumentException.class,
                () -> F.crossEntropy(Tensor.ones(2, 3), Tensor.of(new long[] {0, 1, 2}, 3))),
                "expected target of shape [2]", "[3]");
    }

    @Test
    void dataOfTheWrongLengthAndItemOfManyElements() {
        assertContains(message(IllegalArgumentException.class, () -> Tensor.of(new float[] {1, 2, 3}, 2, 2)),
                "[2, 2] needs 4 values, got 3");
        assertContains(message(IllegalStateException.class, () -> Tensor.ones(2).item()), "2 elements");
    }

    @Test
    void catAndStackNameTheOffendingEntry() {
        assertContains(message(IllegalArgumentException.class,
                () -> Tensor.cat(java.util.List.of(Tensor.ones(2, 3), Tensor.ones(2, 4)), 0)),
                "tensor 1", "[2, 4]", "[2, 3]");
        assertContains(message(IllegalArgumentException.class,
                () -> Tensor.stack(java.util.List.of(Tensor.ones(2), Tensor.ones(3)), 0)),
                "entry 1", "[3]");
    }

    @Test
    void inPlaceWithABroadcastResultThatDoesNotFit() {
        Tensor t = Tensor.ones(3);
        String m = message(IllegalArgumentException.class, () -> t.add_(Tensor.ones(2, 3)));
        assertContains(m, "add_", "[3]", "[2, 3]");
        assertEquals(0, t.version(), "a refused in-place op writes nothing");
        assertEquals("tensor([1., 1., 1.])", t.toString());
    }
}
