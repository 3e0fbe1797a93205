package io.sparkgrad.io;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Exact comparison of tensors: dtype, shape and every bit of every value (NaN payloads and -0.0 included). */
final class TensorBits {
    private TensorBits() {
    }

    static long[] bits(Tensor t) {
        switch (t.dtype()) {
            case FLOAT32: {
                float[] v = t.toFloatArray();
                long[] out = new long[v.length];
                for (int i = 0; i < v.length; i++) {
                    out[i] = Float.floatToRawIntBits(v[i]);
                }
                return out;
            }
            case FLOAT64:
                return Arrays.stream(t.toDoubleArray()).mapToLong(Double::doubleToRawLongBits).toArray();
            default:
                return t.toLongArray();
        }
    }

    static void assertSameBits(Tensor expected, Tensor actual, String name) {
        assertEquals(expected.dtype(), actual.dtype(), name + ": dtype");
        assertArrayEquals(expected.shape(), actual.shape(), name + ": shape");
        assertArrayEquals(bits(expected), bits(actual), name + ": values");
    }

    static DType dtypeOfCode(String code) {
        switch (code) {
            case "F32": return DType.FLOAT32;
            case "F64": return DType.FLOAT64;
            case "I64": return DType.INT64;
            default: throw new IllegalArgumentException(code);
        }
    }
}
