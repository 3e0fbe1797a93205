package io.sparkgrad;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * Prints tensors exactly as PyTorch does ({@code torch/_tensor_str.py}, default print options):
 * 4 decimals, integer mode ({@code 4.}) when every value is whole, scientific notation when the
 * range is wide, right-aligned columns, lines wrapped at 80 characters, and tensors of more than
 * 1000 elements summarized with {@code ...}. Rounding is decimal-exact (half-even on the binary
 * value, as Python's {@code format}), so printed digits match PyTorch's.
 */
final class TensorFormatter {
    private static final int PRECISION = 4;
    private static final int LINE_WIDTH = 80;
    private static final int THRESHOLD = 1000;
    private static final int EDGE_ITEMS = 3;
    private static final String PREFIX = "tensor(";

    private TensorFormatter() {
    }

    static String format(Tensor t) {
        int indent = PREFIX.length();
        List<String> suffixes = new ArrayList<>();
        String body;
        boolean empty = t.numel() == 0 && t.dim() > 0;
        if (empty) {
            body = "[]";
            if (t.dim() != 1) {
                suffixes.add("size=(" + joinSizes(t.shape()) + ")");
            }
        } else {
            boolean summarize = t.numel() > THRESHOLD;
            Tensor data = t.storage().onDevice() ? t.detach().to(Device.CPU) : t.detach().contiguousData();
            Formatter f = new Formatter(data.dtype(), summarized(data, summarize));
            body = tensorStr(data, indent, summarize, f);
        }
        // An empty tensor shows every non-default dtype: there are no elements to tell int64 apart.
        if (t.dtype() == DType.FLOAT64 || (empty && t.dtype() != DType.FLOAT32)) {
            suffixes.add("dtype=" + t.dtype().torchName());
        }
        if (!t.device().isCpu()) {
            suffixes.add("device='" + t.device() + "'");
        }
        if (t.gradFn() != null) {
            suffixes.add("grad_fn=<" + t.gradFn().name() + ">");
        } else if (t.requiresGrad()) {
            suffixes.add("requires_grad=True");
        }
        return addSuffixes(PREFIX + body, suffixes, indent);
    }

    private static String addSuffixes(String tensorStr, List<String> suffixes, int indent) {
        StringBuilder sb = new StringBuilder(tensorStr);
        int lastLineLen = tensorStr.length() - tensorStr.lastIndexOf('\n') + 1;
        for (String suffix : suffixes) {
            if (lastLineLen + suffix.length() + 2 > LINE_WIDTH) {
                sb.append(",\n").append(" ".repeat(indent)).append(suffix);
                lastLineLen = indent + suffix.length();
            } else {
                sb.append(", ").append(suffix);
                lastLineLen += suffix.length() + 2;
            }
        }
        return sb.append(')').toString();
    }

    private static String joinSizes(int[] shape) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? ", " : "").append(shape[i]);
        }
        return sb.toString();
    }

    private static String tensorStr(Tensor t, int indent, boolean summarize, Formatter f) {
        if (t.dim() == 0) {
            return f.format(t.item());
        }
        if (t.dim() == 1) {
            return vectorStr(t, indent, summarize, f);
        }
        List<String> slices = new ArrayList<>();
        int n = t.size(0);
        if (summarize && n > 2 * EDGE_ITEMS) {
            for (int i = 0; i < EDGE_ITEMS; i++) {
                slices.add(tensorStr(t.select(0, i), indent + 1, summarize, f));
            }
            slices.add("...");
            for (int i = n - EDGE_ITEMS; i < n; i++) {
                slices.add(tensorStr(t.select(0, i), indent + 1, summarize, f));
            }
        } else {
            for (int i = 0; i < n; i++) {
                slices.add(tensorStr(t.select(0, i), indent + 1, summarize, f));
            }
        }
        String sep = "," + "\n".repeat(t.dim() - 1) + " ".repeat(indent + 1);
        return "[" + String.join(sep, slices) + "]";
    }

    private static String vectorStr(Tensor t, int indent, boolean summarize, Formatter f) {
        int elementLength = f.width + 2;
        int perLine = Math.max(1, (LINE_WIDTH - indent) / elementLength);
        List<String> data = new ArrayList<>();
        int n = t.size(0);
        if (summarize && n > 2 * EDGE_ITEMS) {
            for (int i = 0; i < EDGE_ITEMS; i++) {
                data.add(f.format(t.get(i)));
            }
            data.add(" ...");
            for (int i = n - EDGE_ITEMS; i < n; i++) {
                data.add(f.format(t.get(i)));
            }
        } else {
            for (int i = 0; i < n; i++) {
                data.add(f.format(t.get(i)));
            }
        }
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < data.size(); i += perLine) {
            lines.add(String.join(", ", data.subList(i, Math.min(data.size(), i + perLine))));
        }
        return "[" + String.join(",\n" + " ".repeat(indent + 1), lines) + "]";
    }

    /** The values the formatter sizes its columns from: all, or only the printed edges. */
    private static double[] summarized(Tensor t, boolean summarize) {
        if (!summarize) {
            return t.toDoubleArray();
        }
        List<Double> vals = new ArrayList<>();
        collectEdges(t, vals);
        double[] out = new double[vals.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = vals.get(i);
        }
        return out;
    }

    private static void collectEdges(Tensor t, List<Double> out) {
        if (t.dim() == 0) {
            out.add(t.item());
            return;
        }
        int n = t.size(0);
        if (n > 2 * EDGE_ITEMS) {
            for (int i = 0; i < EDGE_ITEMS; i++) {
                collectEdges(t.select(0, i), out);
            }
            for (int i = n - EDGE_ITEMS; i < n; i++) {
                collectEdges(t.select(0, i), out);
            }
        } else {
            for (int i = 0; i < n; i++) {
                collectEdges(t.select(0, i), out);
            }
        }
    }

    /** PyTorch's {@code _Formatter}: picks integer, fixed or scientific mode and a common width. */
    private static final class Formatter {
        final boolean floating;
        boolean intMode = true;
        boolean sciMode;
        int width = 1;

        Formatter(DType dtype, double[] values) {
            floating = dtype.isFloatingPoint();
            if (!floating) {
                for (double v : values) {
                    width = Math.max(width, Long.toString((long) v).length());
                }
                return;
            }
            List<Double> finite = new ArrayList<>();
            for (double v : values) {
                if (Double.isFinite(v) && v != 0) {
                    finite.add(v);
                }
            }
            if (finite.isEmpty()) {
                return;
            }
            double min = Double.MAX_VALUE;
            double max = 0;
            for (double v : finite) {
                min = Math.min(min, Math.abs(v));
                max = Math.max(max, Math.abs(v));
                if (v != Math.ceil(v)) {
                    intMode = false;
                }
            }
            if (intMode) {
                sciMode = max / min > 1000. || max > 1.e8;
                for (double v : finite) {
                    width = Math.max(width, sciMode ? sci(v).length() : fixed(v, 0).length() + 1);
                }
            } else {
                sciMode = max / min > 1000. || max > 1.e8 || min < 1.e-4;
                for (double v : finite) {
                    width = Math.max(width, sciMode ? sci(v).length() : fixed(v, PRECISION).length());
                }
            }
        }

        String format(double v) {
            String s;
            if (!floating) {
                s = Long.toString((long) v);
            } else if (Double.isNaN(v)) {
                s = "nan";
            } else if (Double.isInfinite(v)) {
                s = v > 0 ? "inf" : "-inf";
            } else if (sciMode) {
                s = sci(v);
            } else if (intMode) {
                s = fixed(v, 0) + ".";
            } else {
                s = fixed(v, PRECISION);
            }
            return " ".repeat(Math.max(0, width - s.length())) + s;
        }

        /** Python's {@code '{:.Nf}'}: exact binary value rounded half-even. */
        static String fixed(double v, int decimals) {
            String s = new BigDecimal(v).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
            return negativeZero(v, s);
        }

        /** Python's {@code '{:.4e}'}: mantissa with 4 decimals, exponent signed with at least 2 digits. */
        static String sci(double v) {
            if (v == 0) {
                return negativeZero(v, "0.0000e+00");
            }
            BigDecimal rounded = new BigDecimal(v).round(new MathContext(PRECISION + 1, RoundingMode.HALF_EVEN));
            int exponent = rounded.precision() - rounded.scale() - 1;
            BigDecimal mantissa = rounded.movePointLeft(exponent).setScale(PRECISION, RoundingMode.HALF_EVEN);
            String exp = String.format("%02d", Math.abs(exponent));
            return mantissa.toPlainString() + "e" + (exponent < 0 ? "-" : "+") + exp;
        }

        private static String negativeZero(double v, String s) {
            boolean negative = v < 0 || (v == 0 && 1 / v < 0);
            return negative && !s.startsWith("-") ? "-" + s : s;
        }
    }
}
