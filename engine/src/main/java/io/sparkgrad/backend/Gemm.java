package io.sparkgrad.backend;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import io.sparkgrad.DType;
import io.sparkgrad.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * Matrix products. Three paths, chosen once and logged:
 * <ul>
 *   <li>{@code native}: OpenBLAS through the BLAS facade Spark MLlib uses ({@code dev.ludovic.netlib}),
 *       when the machine's {@code libblas.so.3} is OpenBLAS (Debian: {@code libopenblas0-pthread}).
 *       Its threads follow {@code OPENBLAS_NUM_THREADS}.</li>
 *   <li>{@code vector}: our own packed kernel on the Vector API ({@link VectorSgemm}) for float32,
 *       split over the engine's pool; used when native OpenBLAS is absent (the facade's own Java
 *       path slows down sharply past ~1290³ because of an int overflow, and the reference BLAS
 *       some machines have as {@code libblas.so.3} is slower still).</li>
 *   <li>{@code java}: the facade's pure-Java BLAS, when neither is available.</li>
 * </ul>
 * {@code -Dsparkgrad.blas=native|vector|java} forces a path. Float64 (gradient checks) uses the
 * facade: native when OpenBLAS is there, its Java implementation otherwise.
 * <p>
 * BLAS is column-major and our tensors are row-major, so {@code C = A·B} is computed as
 * {@code Cᵀ = Bᵀ·Aᵀ}: a row-major matrix is its own transpose read column-major, and a transposed
 * view needs no copy at all (it is passed with the 'T' flag).
 */
public final class Gemm {
    /** Which implementation computes float32 products. */
    public enum Impl { NATIVE, VECTOR, JAVA }

    private static final Logger LOG = Logger.getLogger(Gemm.class.getName());
    /** Products with fewer multiply-adds than this run in a plain loop: a native call costs more. */
    private static final int SMALL_MACS = 2048;

    private static final BLAS FACADE = BLAS.getInstance();
    private static final boolean OPENBLAS = isOpenBlas(FACADE);
    private static final Impl IMPL = choose();
    private static final BLAS DOUBLE_BLAS = OPENBLAS ? FACADE : JavaBLAS.getInstance();

    static {
        LOG.info("Sparkgrad matrix products use " + describe());
    }

    private Gemm() {
    }

    /** The implementation in use for float32 products. */
    public static Impl impl() {
        return IMPL;
    }

    /** A one-line description of the chosen paths, for logs and benchmark reports. */
    public static String describe() {
        String f32;
        switch (IMPL) {
            case NATIVE: f32 = "native OpenBLAS (" + FACADE.getClass().getSimpleName() + ")"; break;
            case VECTOR: f32 = VectorSgemm.describe(); break;
            default: f32 = "the netlib facade's Java BLAS (" + JavaBLAS.getInstance().getClass().getSimpleName() + ")";
        }
        return "float32: " + f32 + "; float64: " + DOUBLE_BLAS.getClass().getSimpleName();
    }

    private static Impl choose() {
        String forced = System.getProperty("sparkgrad.blas", "auto").trim().toLowerCase(Locale.ROOT);
        switch (forced) {
            case "native":
                if (!OPENBLAS) {
                    throw new IllegalStateException("-Dsparkgrad.blas=native, but libblas.so.3 is not OpenBLAS; "
                            + "install it with: apt-get install libopenblas0-pthread");
                }
                return Impl.NATIVE;
            case "vector":
                if (!VectorKernels.available()) {
                    throw new IllegalStateException("-Dsparkgrad.blas=vector needs --add-modules jdk.incubator.vector");
                }
                return Impl.VECTOR;
            case "java":
                return Impl.JAVA;
            case "auto":
                return OPENBLAS ? Impl.NATIVE : VectorKernels.available() ? Impl.VECTOR : Impl.JAVA;
            default:
                throw new IllegalArgumentException("sparkgrad.blas must be auto, native, vector or java, got " + forced);
        }
    }

    /**
     * Whether the facade loaded a native library and that library is OpenBLAS: the facade happily
     * binds to Debian's reference BLAS too, which is many times slower than our own kernel.
     */
    private static boolean isOpenBlas(BLAS facade) {
        if (!facade.getClass().getSimpleName().startsWith("JNI")) {
            return false;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String lower = line.toLowerCase(Locale.ROOT);
                if (lower.contains("openblas")) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.fine("cannot read /proc/self/maps: " + e);
        }
        return false;
    }

    /** {@code [m,k] · [k,n] -> [m,n]}. */
    public static Tensor mm(Tensor a, Tensor b) {
        if (DeviceCheck.anyOnDevice(a, b)) {
            return io.sparkgrad.backend.opencl.ClOps.mm(a, b);
        }
        int m = a.size(0);
        int n = b.size(1);
        Tensor out = Tensor.empty(a.dtype(), m, n);
        gemm(a, a.storageOffset(), a.stride(0), a.stride(1), m, a.size(1),
                b, b.storageOffset(), b.stride(0), b.stride(1), n, out, 0, false);
        return out;
    }

    /** {@code bias + [m,k] · [k,n] -> [m,n]}, the bias (broadcast to the output) accumulated onto by the product. */
    public static Tensor addmm(Tensor bias, Tensor a, Tensor b) {
        if (DeviceCheck.anyOnDevice(bias, a, b)) {
            return io.sparkgrad.backend.opencl.ClOps.addmm(bias, a, b);
        }
        int m = a.size(0);
        int n = b.size(1);
        Tensor out = Tensor.empty(a.dtype(), m, n);
        Layout.copyInto(bias, out);
        gemm(a, a.storageOffset(), a.stride(0), a.stride(1), m, a.size(1),
                b, b.storageOffset(), b.stride(0), b.stride(1), n, out, 0, true);
        return out;
    }

    /** {@code [B,m,k] · [B,k,n] -> [B,m,n]}. */
    public static Tensor bmm(Tensor a, Tensor b) {
        if (DeviceCheck.anyOnDevice(a, b)) {
            return io.sparkgrad.backend.opencl.ClOps.bmm(a, b);
        }
        int batch = a.size(0);
        int m = a.size(1);
        int k = a.size(2);
        int n = b.size(2);
        Tensor out = Tensor.empty(a.dtype(), batch, m, n);
        for (int i = 0; i < batch; i++) {
            gemm(a, a.storageOffset() + i * a.stride(0), a.stride(1), a.stride(2), m, k,
                    b, b.storageOffset() + i * b.stride(0), b.stride(1), b.stride(2), n, out, i * m * n, false);
        }
        return out;
    }

    /**
     * Computes one product with a given float32 path, whatever the default: for tests that check
     * the paths against each other.
     */
    public static Tensor mmWith(Impl impl, Tensor a, Tensor b) {
        Tensor out = Tensor.empty(a.dtype(), a.size(0), b.size(1));
        Operand pa = Operand.of(a, a.storageOffset(), a.stride(0), a.stride(1), a.size(0), a.size(1));
        Operand pb = Operand.of(b, b.storageOffset(), b.stride(0), b.stride(1), b.size(0), b.size(1));
        sgemm(impl, pa, pb, a.size(0), b.size(1), a.size(1), out.storage().floats(), 0, false);
        return out;
    }

    /** {@code out = A·B}, or {@code out += A·B} when {@code accumulate}. */
    private static void gemm(Tensor a, int aOff, int aRowStride, int aColStride, int m, int k,
                             Tensor b, int bOff, int bRowStride, int bColStride, int n, Tensor out, int outOff,
                             boolean accumulate) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                Layout.fill(out, 0);
            }
            return;
        }
        Operand pa = Operand.of(a, aOff, aRowStride, aColStride, m, k);
        Operand pb = Operand.of(b, bOff, bRowStride, bColStride, k, n);
        if ((long) m * n * k <= SMALL_MACS) {
            small(pa, pb, m, n, k, out, outOff, accumulate);
        } else if (a.dtype() == DType.FLOAT32) {
            sgemm(IMPL, pa, pb, m, n, k, out.storage().floats(), outOff, accumulate);
        } else {
            DOUBLE_BLAS.dgemm(pb.trans, pa.trans, n, m, k, 1d, pb.t.storage().doubles(), pb.off, pb.ld,
                    pa.t.storage().doubles(), pa.off, pa.ld, accumulate ? 1d : 0d, out.storage().doubles(), outOff, n);
        }
    }

    private static void sgemm(Impl impl, Operand pa, Operand pb, int m, int n, int k, float[] c, int cOff,
                              boolean accumulate) {
        float[] af = pa.t.storage().floats();
        float[] bf = pb.t.storage().floats();
        float beta = accumulate ? 1f : 0f;
        switch (impl) {
            case NATIVE:
                FACADE.sgemm(pb.trans, pa.trans, n, m, k, 1f, bf, pb.off, pb.ld, af, pa.off, pa.ld, beta, c, cOff, n);
                break;
            case VECTOR: {
                boolean ta = pa.transposed();
                boolean tb = pb.transposed();
                int parts = VectorSgemm.parts(m, n, k, Parallel.threads());
                Parallel.forRange(parts, 1, (s, e) -> {
                    for (int p = s; p < e; p++) {
                        VectorSgemm.sgemmPart(p, parts, ta, tb, m, n, k, 1f, af, pa.off, pa.ld, bf, pb.off, pb.ld,
                                beta, c, cOff, n);
                    }
                });
                break;
            }
            default:
                JavaBLAS.getInstance().sgemm(pb.trans, pa.trans, n, m, k, 1f, bf, pb.off, pb.ld, af, pa.off, pa.ld,
                        beta, c, cOff, n);
        }
    }

    /** Tiny products (the tutorial's 1×5·5×3): a row-times-matrix loop beats any call overhead. */
    private static void small(Operand pa, Operand pb, int m, int n, int k, Tensor out, int outOff, boolean accumulate) {
        // Element (r, c) of an operand sits at off + r*rs + c*cs.
        int ars = pa.transposed() ? 1 : pa.ld;
        int acs = pa.transposed() ? pa.ld : 1;
        int brs = pb.transposed() ? 1 : pb.ld;
        int bcs = pb.transposed() ? pb.ld : 1;
        if (out.dtype() == DType.FLOAT32) {
            float[] a = pa.t.storage().floats();
            float[] b = pb.t.storage().floats();
            float[] c = out.storage().floats();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = accumulate ? c[outOff + i * n + j] : 0;
                    for (int p = 0; p < k; p++) {
                        s += a[pa.off + i * ars + p * acs] * b[pb.off + p * brs + j * bcs];
                    }
                    c[outOff + i * n + j] = s;
                }
            }
        } else {
            double[] a = pa.t.storage().doubles();
            double[] b = pb.t.storage().doubles();
            double[] c = out.storage().doubles();
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = accumulate ? c[outOff + i * n + j] : 0;
                    for (int p = 0; p < k; p++) {
                        s += a[pa.off + i * ars + p * acs] * b[pb.off + p * brs + j * bcs];
                    }
                    c[outOff + i * n + j] = s;
                }
            }
        }
    }

    /** A row-major [rows, cols] matrix as BLAS wants it: a transpose flag, a leading dimension, an offset. */
    private static final class Operand {
        final Tensor t;
        final int off;
        final String trans;
        final int ld;

        private Operand(Tensor t, int off, String trans, int ld) {
            this.t = t;
            this.off = off;
            this.trans = trans;
            this.ld = ld;
        }

        boolean transposed() {
            return "T".equals(trans);
        }

        static Operand of(Tensor t, int off, int rowStride, int colStride, int rows, int cols) {
            if ((colStride == 1 || cols == 1) && rowStride >= Math.max(1, cols)) {
                return new Operand(t, off, "N", Math.max(rowStride, 1));
            }
            if ((rowStride == 1 || rows == 1) && colStride >= Math.max(1, rows)) {
                return new Operand(t, off, "T", Math.max(colStride, 1));
            }
            // Any other layout (broadcast or sliced with gaps): gather this one matrix first.
            Tensor view = Tensor.view(t.storage(), new int[] {rows, cols}, new int[] {rowStride, colStride}, off);
            Tensor dense = Layout.contiguousCopy(view);
            return new Operand(dense, 0, "N", Math.max(cols, 1));
        }
    }
}
