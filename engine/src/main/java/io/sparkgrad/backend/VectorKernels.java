package io.sparkgrad.backend;

import java.util.logging.Logger;

/**
 * The float32 kernels written with the JDK Vector API, behind an interface so that the engine
 * still runs when the JVM was started without {@code --add-modules jdk.incubator.vector}: the
 * implementation class is only loaded (by name) when the module is present, and the plain loops
 * of {@link UnaryKernel}/{@link BinaryKernel} are used otherwise. {@link #INSTANCE} is null then.
 * All methods work on contiguous runs; {@code n} elements from the given offsets.
 */
public interface VectorKernels {
    /** The Vector API implementation, or null when the incubator module is absent (logged once). */
    VectorKernels INSTANCE = Loader.load();

    /** Whether the fast path is in use. */
    static boolean available() {
        return INSTANCE != null;
    }

    /** y = op(x) for the tokens this implementation vectorizes; returns false for others. */
    boolean unary(UnaryKernel op, float[] x, int xo, float[] y, int yo, int n);

    /** o = a op b with unit strides (bs == 0: b is one value repeated); false when not vectorized. */
    boolean binary(BinaryKernel op, float[] a, int ao, float[] b, int bo, int bs, float[] o, int oo, int n);

    /** Σ x, accumulated in float lanes then in double. */
    double sum(float[] x, int xo, int n);

    /** acc[j] += x[j] for j < n (one row of a column sum). */
    void addInto(float[] x, int xo, float[] acc, int ao, int n);

    /** y += alpha * x, in place. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /** o = g where y > 0, else 0: ReLU's backward in one pass, no mask tensor. */
    void reluBackward(float[] g, int go, float[] y, int yo, float[] o, int oo, int n);

    /**
     * One SGD step over a run, with the rounding of the scalar loop in {@code SGD} (separate
     * multiplies and adds, no fused multiply-add), so both paths give bit-identical parameters:
     * {@code g = sign·d + wd·p}; with a momentum buffer {@code b} (null: none)
     * {@code b = first ? g : mu·b + keep·g} and {@code g = nesterov ? g + mu·b : b}; then {@code p -= lr·g}.
     */
    void sgdStep(float[] p, int po, float[] d, int dOff, float[] b, int bo, int n, float lr, float wd, float sign,
                 float mu, float keep, boolean first, boolean nesterov);

    /** One Adam/AdamW step over a run, rounding exactly as {@link AdamStep#scalar} (same arguments). */
    void adamStep(float[] p, int po, float[] d, int dOff, float[] m, int mo, float[] v, int vo, float[] vmax, int xo,
                  int n, float sign, float wd, float decay, float beta1, float oneMinusBeta1, float beta2,
                  float oneMinusBeta2, float eps, float negStepSize, float bc2Sqrt);

    /** Maximum of a run (NaN if any element is NaN). */
    float max(float[] x, int xo, int n);

    /** Σ exp(x - shift) over a run, also writing the exponentials to {@code out} when it is not null. */
    double expSum(float[] x, int xo, float shift, float[] out, int oo, int n);

    /** Loads the implementation only when the incubator module is in the boot layer. */
    final class Loader {
        private static final Logger LOG = Logger.getLogger(VectorKernels.class.getName());

        private Loader() {
        }

        static VectorKernels load() {
            if ("false".equals(System.getProperty("sparkgrad.vector"))) {
                LOG.info("Sparkgrad: Vector API disabled by -Dsparkgrad.vector=false; using scalar kernels");
                return null;
            }
            if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
                LOG.warning("Sparkgrad: the Vector API is not enabled, so elementwise kernels and matrix products "
                        + "run on the slower scalar path. Start the JVM with --add-modules jdk.incubator.vector "
                        + "(for spark-submit: spark.driver.extraJavaOptions and spark.executor.extraJavaOptions).");
                return null;
            }
            try {
                return (VectorKernels) Class.forName("io.sparkgrad.backend.VectorFloatKernels")
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                LOG.warning("Sparkgrad: could not load the Vector API kernels (" + e + "); using scalar kernels");
                return null;
            }
        }
    }
}
