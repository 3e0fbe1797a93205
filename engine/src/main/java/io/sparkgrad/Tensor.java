package io.sparkgrad;

import io.sparkgrad.autograd.AccumulateGrad;
import io.sparkgrad.autograd.Autograd;
import io.sparkgrad.autograd.Node;
import io.sparkgrad.backend.BinaryKernel;
import io.sparkgrad.backend.Layout;
import io.sparkgrad.ops.Abs;
import io.sparkgrad.ops.Add;
import io.sparkgrad.ops.Cat;
import io.sparkgrad.ops.Clamp;
import io.sparkgrad.ops.Clone;
import io.sparkgrad.ops.Div;
import io.sparkgrad.ops.Exp;
import io.sparkgrad.ops.Expand;
import io.sparkgrad.ops.Gather;
import io.sparkgrad.ops.IndexSelect;
import io.sparkgrad.ops.InPlace;
import io.sparkgrad.ops.Log;
import io.sparkgrad.ops.LogSoftmax;
import io.sparkgrad.ops.Matmul;
import io.sparkgrad.ops.Max;
import io.sparkgrad.ops.Mean;
import io.sparkgrad.ops.Mul;
import io.sparkgrad.ops.Neg;
import io.sparkgrad.ops.Permute;
import io.sparkgrad.ops.Pow;
import io.sparkgrad.ops.Relu;
import io.sparkgrad.ops.Reshape;
import io.sparkgrad.ops.Select;
import io.sparkgrad.ops.Sigmoid;
import io.sparkgrad.ops.Slice;
import io.sparkgrad.ops.Softmax;
import io.sparkgrad.ops.Sqrt;
import io.sparkgrad.ops.Squeeze;
import io.sparkgrad.ops.Stack;
import io.sparkgrad.ops.Sub;
import io.sparkgrad.ops.Sum;
import io.sparkgrad.ops.Tanh;
import io.sparkgrad.ops.ToCopy;
import io.sparkgrad.ops.Transpose;
import io.sparkgrad.ops.Unsqueeze;
import io.sparkgrad.ops.Where;

import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array of float32, float64 or int64 values that records, when asked, how it was
 * computed, so gradients can flow back to it: Sparkgrad's {@code torch.Tensor}.
 *
 * <p>Values live in a flat primitive array ({@link Storage}) read through a shape, strides and an
 * offset; views (reshape, transpose, permute, slice, expand) share the storage. Method names
 * follow PyTorch, so code ports line by line:
 *
 * <pre>{@code
 * Tensor x = Tensor.ones(5);
 * Tensor w = Tensor.randn(5, 3).requiresGrad_();
 * Tensor b = Tensor.randn(3).requiresGrad_();
 * Tensor loss = F.binaryCrossEntropyWithLogits(x.matmul(w).add(b), Tensor.zeros(3));
 * loss.backward();          // w.grad(), b.grad() now hold dloss/dw, dloss/db
 * }</pre>
 *
 * In-place methods end in {@code _}. A tensor is not safe for concurrent writes; independent graphs
 * on different threads are fine.
 */
public class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;
    private final int numel;
    /** The tensor this one is a view of (null when it owns its storage's layout). */
    private final Tensor viewBase;

    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;
    private AccumulateGrad accumulator;
    private boolean retainsGrad;

    /**
     * For subclasses such as {@code nn.Parameter}: a leaf sharing {@code data}'s storage and layout,
     * requiring grad.
     */
    protected Tensor(Tensor data) {
        this(data.storage, data.shape, data.strides, data.offset, null);
        requiresGrad_(true);
    }

    private Tensor(Storage storage, int[] shape, int[] strides, int offset, Tensor viewBase) {
        this(storage, shape, strides, offset, viewBase, Shapes.numel(shape));
    }

    private Tensor(Storage storage, int[] shape, int[] strides, int offset, Tensor viewBase, int numel) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.viewBase = viewBase;
        this.numel = numel;
    }

    // ------------------------------------------------------------------ creation

    /** Reseeds the default generator that {@link #randn}, {@link #rand} and friends draw from. */
    public static void manualSeed(long seed) {
        Generator.defaultGenerator().manualSeed(seed);
    }

    /** A float32 tensor of the given shape over a copy of {@code data}. */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguous(Storage.wrap(data.clone()), shape);
    }

    /** A float64 tensor of the given shape over a copy of {@code data}. */
    public static Tensor of(double[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguous(Storage.wrap(data.clone()), shape);
    }

    /** An int64 tensor (class indices, gather indices) over a copy of {@code data}. */
    public static Tensor of(long[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguous(Storage.wrap(data.clone()), shape);
    }

    /** A 1-D float32 tensor of the given values. */
    public static Tensor of(float... data) {
        return of(data, data.length);
    }

    /** A 0-dimensional float32 tensor holding {@code value}. */
    public static Tensor scalar(double value) {
        return scalar(value, DType.FLOAT32);
    }

    /** A 0-dimensional tensor of the given dtype holding {@code value}. */
    public static Tensor scalar(double value, DType dtype) {
        Tensor t = empty(dtype);
        Layout.fill(t, value);
        return t;
    }

    /** Wraps an existing array without copying: writes to it show in the tensor. */
    public static Tensor wrap(float[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguous(Storage.wrap(data), shape);
    }

    /** Wraps an existing array without copying: writes to it show in the tensor. */
    public static Tensor wrap(double[] data, int... shape) {
        checkLength(data.length, shape);
        return contiguous(Storage.wrap(data), shape);
    }

    /** A view of {@code storage}: the building block of every view op and backend kernel. */
    public static Tensor view(Storage storage, int[] shape, int[] strides, int offset) {
        return new Tensor(storage, shape.clone(), strides.clone(), offset, null);
    }

    /** A new tensor with unspecified (in fact zero) values. */
    public static Tensor empty(DType dtype, int... shape) {
        int n = Shapes.numel(shape);
        return new Tensor(Storage.allocate(dtype, n), shape.clone(), Shapes.contiguousStrides(shape), 0, null, n);
    }

    /** A new contiguous tensor on {@code device} with unspecified values. */
    public static Tensor empty(DType dtype, Device device, int... shape) {
        return device.isCpu() ? empty(dtype, shape) : io.sparkgrad.backend.opencl.ClOps.empty(dtype, device, shape);
    }

    /** Zeros on {@code device}. */
    public static Tensor zeros(DType dtype, Device device, int... shape) {
        return device.isCpu() ? zeros(dtype, shape) : io.sparkgrad.backend.opencl.ClOps.zeros(dtype, device, shape);
    }

    public static Tensor zeros(int... shape) {
        return zeros(DType.FLOAT32, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return empty(dtype, shape);
    }

    public static Tensor ones(int... shape) {
        return full(1.0, DType.FLOAT32, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1.0, dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        Tensor t = empty(dtype, shape);
        Layout.fill(t, value);
        return t;
    }

    /** The n×n identity matrix (float32). */
    public static Tensor eye(int n) {
        return eye(n, DType.FLOAT32);
    }

    public static Tensor eye(int n, DType dtype) {
        Tensor t = empty(dtype, n, n);
        for (int i = 0; i < n; i++) {
            t.storage.setFromDouble(i * n + i, 1.0);
        }
        return t;
    }

    /** {@code 0, 1, …, end-1} as float32. */
    public static Tensor arange(int end) {
        return arange(0, end, 1, DType.FLOAT32);
    }

    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || (end - start) / step < 0) {
            throw new IllegalArgumentException("arange: cannot step from " + start + " to " + end + " by " + step);
        }
        int n = (int) Math.ceil((end - start) / step);
        Tensor t = empty(dtype, n);
        for (int i = 0; i < n; i++) {
            t.storage.setFromDouble(i, start + i * step);
        }
        return t;
    }

    /** Standard normal float32 samples from the default generator. */
    public static Tensor randn(int... shape) {
        return randn(DType.FLOAT32, Generator.defaultGenerator(), shape);
    }

    public static Tensor randn(DType dtype, Generator gen, int... shape) {
        double[] v = new double[Shapes.numel(shape)];
        gen.fillNormal(v);
        return fromDoubles(v, dtype, shape);
    }

    /** Uniform float32 samples in [0, 1) from the default generator. */
    public static Tensor rand(int... shape) {
        return rand(DType.FLOAT32, Generator.defaultGenerator(), shape);
    }

    public static Tensor rand(DType dtype, Generator gen, int... shape) {
        return uniform(0, 1, dtype, gen, shape);
    }

    /** Uniform samples in [low, high): PyTorch's {@code uniform_} on a new tensor. */
    public static Tensor uniform(double low, double high, DType dtype, Generator gen, int... shape) {
        double[] v = new double[Shapes.numel(shape)];
        gen.fillUniform(v, low, high);
        return fromDoubles(v, dtype, shape);
    }

    /** Uniform int64 samples in [0, high) from the default generator. */
    public static Tensor randint(int high, int... shape) {
        long[] v = new long[Shapes.numel(shape)];
        Generator g = Generator.defaultGenerator();
        for (int i = 0; i < v.length; i++) {
            v[i] = g.nextInt(high);
        }
        return contiguous(Storage.wrap(v), shape);
    }

    /** Zeros of t's shape and dtype, on t's device. */
    public static Tensor zerosLike(Tensor t) {
        return t.storage.onDevice() ? zeros(t.dtype(), t.device(), t.shape) : zeros(t.dtype(), t.shape);
    }

    public static Tensor onesLike(Tensor t) {
        return fullLike(t, 1.0);
    }

    public static Tensor randnLike(Tensor t) {
        return randn(t.dtype(), Generator.defaultGenerator(), t.shape).to(t.device());
    }

    public static Tensor fullLike(Tensor t, double value) {
        if (t.storage.onDevice()) {
            Tensor out = empty(t.dtype(), t.device(), t.shape);
            Layout.fill(out, value);
            return out;
        }
        return full(value, t.dtype(), t.shape);
    }

    private static Tensor fromDoubles(double[] v, DType dtype, int[] shape) {
        Tensor t = empty(dtype, shape);
        for (int i = 0; i < v.length; i++) {
            t.storage.setFromDouble(i, v[i]);
        }
        return t;
    }

    private static Tensor contiguous(Storage s, int[] shape) {
        return new Tensor(s, shape.clone(), Shapes.contiguousStrides(shape), 0, null);
    }

    private static void checkLength(int length, int[] shape) {
        int n = Shapes.numel(shape);
        if (n != length) {
            throw new IllegalArgumentException("shape " + Shapes.str(shape) + " needs " + n + " values, got " + length);
        }
    }

    // ------------------------------------------------------------------ metadata

    public int[] shape() {
        return shape.clone();
    }

    /** Size of one dimension; negative counts from the end. */
    public int size(int dim) {
        return shape[Shapes.wrapDim(dim, shape.length)];
    }

    public int dim() {
        return shape.length;
    }

    public int numel() {
        return numel;
    }

    /** Whether this tensor has exactly the given shape. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Whether both tensors have the same shape ({@code a.shape == b.shape}). */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    /** Where the values live: {@link Device#CPU} or an OpenCL device. */
    public Device device() {
        return storage.device();
    }

    public int[] stride() {
        return strides.clone();
    }

    public int stride(int dim) {
        return strides[Shapes.wrapDim(dim, shape.length)];
    }

    public int storageOffset() {
        return offset;
    }

    /** The shared flat array. Kernels read it; user code rarely should. */
    public Storage storage() {
        return storage;
    }

    /** The version counter of the storage: bumped by every in-place write. */
    public int version() {
        return storage.version();
    }

    /** True when the tensor is a view of another tensor (reshape, transpose, slice, expand, …). */
    public boolean isView() {
        return viewBase != null;
    }

    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    // ------------------------------------------------------------------ autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks this leaf as needing a gradient; returns this (PyTorch's {@code requires_grad_()}). */
    public Tensor requiresGrad_() {
        return requiresGrad_(true);
    }

    public Tensor requiresGrad_(boolean flag) {
        if (gradFn != null) {
            if (!flag) {
                throw new IllegalStateException("requiresGrad_(false) on a non-leaf tensor (output of "
                        + gradFn.name() + "); use detach() to get a tensor outside the graph");
            }
            return this;
        }
        if (flag && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("only float32 and float64 tensors can require gradients, not " + dtype());
        }
        this.requiresGrad = flag;
        return this;
    }

    /** The accumulated gradient of a leaf that requires grad (or of a non-leaf after {@link #retainGrad()}). */
    public Tensor grad() {
        return grad;
    }

    /** Replaces {@code .grad} (null clears it, as {@code p.grad = None}). */
    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("assigned grad has shape " + Shapes.str(g.shape)
                    + " but the tensor has shape " + Shapes.str(shape));
        }
        this.grad = g;
    }

    /** The node that produced this tensor, or null for leaves and tensors outside the graph. */
    public Node gradFn() {
        return gradFn;
    }

    /** Leaves are tensors created by the user (not by a recorded op); only they get {@code .grad} by default. */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Asks a non-leaf tensor to keep its {@code .grad} after backward. */
    public Tensor retainGrad() {
        if (!requiresGrad) {
            throw new IllegalStateException("can't retainGrad() on a tensor that does not require grad");
        }
        if (gradFn != null) {
            retainsGrad = true;
            io.sparkgrad.autograd.Graph.retainGrad(this);
        }
        return this;
    }

    public boolean retainsGrad() {
        return retainsGrad || (isLeaf() && requiresGrad);
    }

    /** Engine-internal: makes {@code node} this tensor's {@code gradFn}. Called by ops through {@code Graph.record}. */
    public void attachGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
        this.retainsGrad = false;
    }

    /** Engine-internal: the node that accumulates into this leaf's {@code .grad} (one per leaf). */
    public synchronized AccumulateGrad gradAccumulator() {
        if (accumulator == null) {
            accumulator = new AccumulateGrad(this);
        }
        return accumulator;
    }

    /** Computes the gradient of this scalar and accumulates it into the leaves ({@code backward(tensor(1.0))}). */
    public void backward() {
        backward(null, false);
    }

    /** The vector-Jacobian product with {@code gradient}, accumulated into the leaves. */
    public void backward(Tensor gradient) {
        backward(gradient, false);
    }

    /** As {@link #backward(Tensor)}; {@code retainGraph} keeps the saved tensors for another pass. */
    public void backward(Tensor gradient, boolean retainGraph) {
        backward(gradient, retainGraph, false);
    }

    /** As {@link #backward(Tensor, boolean)}; {@code createGraph} makes the gradients differentiable. */
    public void backward(Tensor gradient, boolean retainGraph, boolean createGraph) {
        Autograd.backward(List.of(this), gradient == null ? null : Arrays.asList(gradient), retainGraph || createGraph,
                createGraph);
    }

    /** A tensor sharing this one's storage that is not part of any graph. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset, null, numel);
    }

    // ------------------------------------------------------------------ data access

    /** The values in row-major order as float32 (converted if needed). */
    public float[] toFloatArray() {
        if (storage.onDevice()) {
            return detach().to(Device.CPU).toFloatArray();
        }
        Tensor c = dtype() == DType.FLOAT32 ? contiguousData() : toDType(DType.FLOAT32);
        float[] src = c.storage.floats();
        return Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    /** The values in row-major order as float64 (converted if needed). */
    public double[] toDoubleArray() {
        if (storage.onDevice()) {
            return detach().to(Device.CPU).toDoubleArray();
        }
        Tensor c = dtype() == DType.FLOAT64 ? contiguousData() : toDType(DType.FLOAT64);
        double[] src = c.storage.doubles();
        return Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    /** The values in row-major order as int64 (floats truncated toward zero). */
    public long[] toLongArray() {
        if (storage.onDevice()) {
            return detach().to(Device.CPU).toLongArray();
        }
        Tensor c = dtype() == DType.INT64 ? contiguousData() : toDType(DType.INT64);
        long[] src = c.storage.longs();
        return Arrays.copyOfRange(src, c.offset, c.offset + numel());
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item(): a tensor with " + numel() + " elements (shape "
                    + Shapes.str(shape) + ") cannot be converted to a scalar");
        }
        if (storage.onDevice()) {
            return detach().to(Device.CPU).item();
        }
        return storage.getAsDouble(offset);
    }

    /** The element at {@code index} (one coordinate per dimension, negatives count from the end). */
    public double get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("get: " + index.length + " indices for a tensor of rank " + shape.length);
        }
        int pos = offset;
        for (int d = 0; d < index.length; d++) {
            int i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d]) {
                throw new IndexOutOfBoundsException("index " + index[d] + " is out of bounds for dimension " + d
                        + " with size " + shape[d]);
            }
            pos += i * strides[d];
        }
        if (storage.onDevice()) {
            return viewOf(new int[0], new int[0], pos).item();
        }
        return storage.getAsDouble(pos);
    }

    /** This tensor when contiguous, else a contiguous copy; not recorded (use {@link #contiguous()} for that). */
    public Tensor contiguousData() {
        return isContiguous() ? this : Layout.contiguousCopy(this);
    }

    private Tensor toDType(DType target) {
        Tensor out = empty(target, device(), shape);
        Layout.copyInto(this, out);
        return out;
    }

    // ------------------------------------------------------------------ arithmetic

    public Tensor add(Tensor other) {
        return Add.apply(this, other);
    }

    public Tensor add(double value) {
        return Add.apply(this, scalarLike(value));
    }

    /** {@code this + alpha * other}. */
    public Tensor add(Tensor other, double alpha) {
        return alpha == 1 ? add(other) : Add.apply(this, other.mul(alpha));
    }

    public Tensor sub(Tensor other) {
        return Sub.apply(this, other);
    }

    public Tensor sub(double value) {
        return Sub.apply(this, scalarLike(value));
    }

    /** {@code value - this} (PyTorch's {@code rsub}). */
    public Tensor rsub(double value) {
        return Sub.apply(scalarLike(value), this);
    }

    public Tensor mul(Tensor other) {
        return Mul.apply(this, other);
    }

    public Tensor mul(double value) {
        return Mul.apply(this, scalarLike(value));
    }

    public Tensor div(Tensor other) {
        return Div.apply(this, other);
    }

    public Tensor div(double value) {
        return Div.apply(this, scalarLike(value));
    }

    public Tensor neg() {
        return Neg.apply(this);
    }

    /** Elementwise power with a constant exponent. */
    public Tensor pow(double exponent) {
        return Pow.apply(this, exponent);
    }

    /** Elementwise power with a tensor exponent (broadcast). */
    public Tensor pow(Tensor exponent) {
        return Pow.apply(this, exponent);
    }

    public Tensor exp() {
        return Exp.apply(this);
    }

    public Tensor log() {
        return Log.apply(this);
    }

    public Tensor sqrt() {
        return Sqrt.apply(this);
    }

    public Tensor abs() {
        return Abs.apply(this);
    }

    public Tensor relu() {
        return Relu.apply(this);
    }

    public Tensor sigmoid() {
        return Sigmoid.apply(this);
    }

    public Tensor tanh() {
        return Tanh.apply(this);
    }

    /** Limits every element to [min, max]; pass NaN for no bound on that side. */
    public Tensor clamp(double min, double max) {
        return Clamp.apply(this, min, max);
    }

    public Tensor clampMin(double min) {
        return Clamp.apply(this, min, Double.NaN);
    }

    public Tensor clampMax(double max) {
        return Clamp.apply(this, Double.NaN, max);
    }

    /** {@code condition != 0 ? x : y} elementwise, broadcast; the condition carries no gradient. */
    public static Tensor where(Tensor condition, Tensor x, Tensor y) {
        return Where.apply(condition, x, y);
    }

    /** Matrix product with PyTorch's rules for 1-D, 2-D and batched (3-D and more) operands. */
    public Tensor matmul(Tensor other) {
        return Matmul.apply(this, other);
    }

    /** Strictly 2-D matrix product. */
    public Tensor mm(Tensor other) {
        return Matmul.mm(this, other);
    }

    // ------------------------------------------------------------------ reductions

    public Tensor sum() {
        return Sum.apply(this, new int[0], false);
    }

    public Tensor sum(int dim) {
        return Sum.apply(this, new int[] {dim}, false);
    }

    public Tensor sum(int dim, boolean keepDim) {
        return Sum.apply(this, new int[] {dim}, keepDim);
    }

    public Tensor sum(int[] dims, boolean keepDim) {
        return Sum.apply(this, dims, keepDim);
    }

    public Tensor mean() {
        return Mean.apply(this, new int[0], false);
    }

    public Tensor mean(int dim) {
        return Mean.apply(this, new int[] {dim}, false);
    }

    public Tensor mean(int dim, boolean keepDim) {
        return Mean.apply(this, new int[] {dim}, keepDim);
    }

    public Tensor mean(int[] dims, boolean keepDim) {
        return Mean.apply(this, dims, keepDim);
    }

    /** The largest element (gradient shared evenly between ties). */
    public Tensor max() {
        return Max.all(this);
    }

    /** The largest values along {@code dim} (gradient to the first maximum, as PyTorch's {@code max(dim).values}). */
    public Tensor max(int dim, boolean keepDim) {
        return Max.alongDim(this, dim, keepDim);
    }

    /** The largest values over several dimensions ({@code amax}; gradient shared evenly between ties). */
    public Tensor amax(int[] dims, boolean keepDim) {
        return Max.amax(this, dims, keepDim);
    }

    /** Index of the largest value along {@code dim}, as int64. */
    public Tensor argmax(int dim, boolean keepDim) {
        return Max.argmax(this, dim, keepDim);
    }

    /**
     * Sums this tensor down to {@code target}, the inverse of broadcasting: leading dimensions are
     * summed away and dimensions where {@code target} has size 1 are summed with keepDim.
     */
    public Tensor sumToShape(int[] target) {
        if (Arrays.equals(shape, target)) {
            return this;
        }
        if (!Shapes.expandable(target, shape)) {
            throw new IllegalArgumentException("sumToShape: " + Shapes.str(shape) + " cannot be reduced to "
                    + Shapes.str(target));
        }
        int lead = shape.length - target.length;
        int[] dims = new int[shape.length];
        int n = 0;
        for (int d = 0; d < shape.length; d++) {
            if (d < lead || (target[d - lead] == 1 && shape[d] != 1)) {
                dims[n++] = d;
            }
        }
        Tensor s = n == 0 ? this : sum(Arrays.copyOf(dims, n), true);
        return s.reshape(target);
    }

    // ------------------------------------------------------------------ shape and views

    /** Same values in a new shape (one dimension may be -1); a view when the layout allows, else a copy. */
    public Tensor reshape(int... newShape) {
        return Reshape.reshape(this, newShape);
    }

    /** Same values in a new shape, always a view; fails if the layout does not allow it. */
    public Tensor view(int... newShape) {
        return Reshape.view(this, newShape);
    }

    /** All dimensions folded into one. */
    public Tensor flatten() {
        return reshape(-1);
    }

    /** Dimensions {@code startDim..endDim} folded into one. */
    public Tensor flatten(int startDim, int endDim) {
        int s = Shapes.wrapDim(startDim, shape.length);
        int e = Shapes.wrapDim(endDim, shape.length);
        int[] out = new int[shape.length - (e - s)];
        int k = 0;
        for (int d = 0; d < s; d++) {
            out[k++] = shape[d];
        }
        int folded = 1;
        for (int d = s; d <= e; d++) {
            folded *= shape[d];
        }
        out[k++] = folded;
        for (int d = e + 1; d < shape.length; d++) {
            out[k++] = shape[d];
        }
        return reshape(out);
    }

    public Tensor transpose(int dim0, int dim1) {
        return Transpose.apply(this, dim0, dim1);
    }

    /** Transpose of a matrix (a 0-D or 1-D tensor is returned as is). */
    public Tensor t() {
        if (shape.length > 2) {
            throw new IllegalArgumentException("t() expects a tensor with at most 2 dimensions, got shape "
                    + Shapes.str(shape) + "; use transpose(dim0, dim1)");
        }
        return shape.length < 2 ? this : transpose(0, 1);
    }

    public Tensor permute(int... dims) {
        return Permute.apply(this, dims);
    }

    /** Removes every dimension of size 1. */
    public Tensor squeeze() {
        return Squeeze.all(this);
    }

    /** Removes {@code dim} if its size is 1 (otherwise returns a view of the same shape, as PyTorch). */
    public Tensor squeeze(int dim) {
        return Squeeze.dim(this, dim);
    }

    public Tensor unsqueeze(int dim) {
        return Unsqueeze.apply(this, dim);
    }

    /** Elements {@code start..end-1} along {@code dim} ({@code x[:, start:end]}); negatives count from the end. */
    public Tensor slice(int dim, int start, int end) {
        return Slice.apply(this, dim, start, end, 1);
    }

    /** Every {@code step}-th element of {@code start..end-1} along {@code dim}. */
    public Tensor slice(int dim, int start, int end, int step) {
        return Slice.apply(this, dim, start, end, step);
    }

    /** {@code length} elements from {@code start} along {@code dim}. */
    public Tensor narrow(int dim, int start, int length) {
        return Slice.apply(this, dim, start, start + length, 1);
    }

    /** The slice at {@code index} along {@code dim}, with that dimension removed ({@code x[i]}). */
    public Tensor select(int dim, int index) {
        return Select.apply(this, dim, index);
    }

    /** A broadcast view: size-1 dimensions repeated (stride 0) to the given sizes; -1 keeps a size. */
    public Tensor expand(int... sizes) {
        return Expand.apply(this, sizes);
    }

    public Tensor expandAs(Tensor other) {
        return expand(other.shape);
    }

    /** This tensor if its layout is contiguous, else a contiguous copy (recorded as CloneBackward0). */
    public Tensor contiguous() {
        return isContiguous() ? this : Clone.apply(this);
    }

    /** A copy with its own storage; gradients flow back to this tensor. */
    public Tensor clone() {
        return Clone.apply(this);
    }

    /** Values along {@code dim} picked by an int64 {@code index} of the same rank. */
    public Tensor gather(int dim, Tensor index) {
        return Gather.apply(this, dim, index);
    }

    /** The entries of {@code dim} listed by a 1-D int64 {@code index}. */
    public Tensor indexSelect(int dim, Tensor index) {
        return IndexSelect.apply(this, dim, index);
    }

    public static Tensor cat(List<Tensor> tensors, int dim) {
        return Cat.apply(tensors, dim);
    }

    public static Tensor stack(List<Tensor> tensors, int dim) {
        return Stack.apply(tensors, dim);
    }

    public Tensor softmax(int dim) {
        return Softmax.apply(this, dim);
    }

    public Tensor logSoftmax(int dim) {
        return LogSoftmax.apply(this, dim);
    }

    /** A copy converted to {@code dtype} (this tensor itself if it already has it), differentiable. */
    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : ToCopy.apply(this, dtype);
    }

    /**
     * This tensor on {@code device} (itself if it is there already): a copy that autograd records,
     * so the gradient flows back to this tensor's device (PyTorch's {@code x.to("cuda:0")}).
     */
    public Tensor to(Device device) {
        return io.sparkgrad.ops.ToDevice.apply(this, device);
    }

    /** {@link #to(Device)} with a device name such as {@code "opencl:0"} or {@code "cpu"}. */
    public Tensor to(String device) {
        return to(Device.of(device));
    }

    /** This tensor on the CPU. */
    public Tensor cpu() {
        return to(Device.CPU);
    }

    /** Engine-internal: a view with permuted dimensions, not recorded. */
    public Tensor permuteView(int[] perm) {
        int[] s = new int[perm.length];
        int[] st = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            s[i] = shape[perm[i]];
            st[i] = strides[perm[i]];
        }
        return viewOf(s, st, offset);
    }

    /** Engine-internal: a view of this tensor's storage with another layout, not recorded. */
    public Tensor viewOf(int[] newShape, int[] newStrides, int newOffset) {
        return new Tensor(storage, newShape, newStrides, newOffset, viewBase != null ? viewBase : this);
    }

    /** Engine-internal: this tensor's strides when broadcast to {@code target} (0 along repeated dimensions). */
    public int[] broadcastStrides(int[] target, String op) {
        if (!Shapes.expandable(shape, target)) {
            throw new IllegalArgumentException(op + ": shape " + Shapes.str(shape) + " cannot be broadcast to "
                    + Shapes.str(target));
        }
        int[] out = new int[target.length];
        int lead = target.length - shape.length;
        for (int d = 0; d < shape.length; d++) {
            out[lead + d] = shape[d] == 1 && target[lead + d] != 1 ? 0 : strides[d];
        }
        return out;
    }

    private Tensor scalarLike(double value) {
        return scalar(value, dtype().isFloatingPoint() ? dtype() : DType.FLOAT32);
    }

    // ------------------------------------------------------------------ in place

    /** Fills with zeros (the usual way to reset {@code .grad} between steps). */
    public Tensor zero_() {
        return fill_(0);
    }

    public Tensor fill_(double value) {
        return InPlace.fill_(this, value);
    }

    /** Copies {@code src} (broadcast, converted) into this tensor's elements. */
    public Tensor copy_(Tensor src) {
        return InPlace.copy_(this, src);
    }

    public Tensor add_(Tensor other) {
        return InPlace.binary(this, other, BinaryKernel.ADD, "add_", Tensor::add);
    }

    /** {@code this += alpha * other}. */
    public Tensor add_(Tensor other, double alpha) {
        if (alpha == 1) {
            return add_(other);
        }
        if (!io.sparkgrad.autograd.Graph.needsGrad(this, other)) {
            InPlace.checkWritable(this, "add_");
            if (io.sparkgrad.backend.Elementwise.axpyInPlace(alpha, other, this)) {
                storage.bumpVersion();
                return this;
            }
        }
        return add_(other.mul(alpha));
    }

    public Tensor add_(double value) {
        return add_(scalarLike(value));
    }

    public Tensor sub_(Tensor other) {
        return InPlace.binary(this, other, BinaryKernel.SUB, "sub_", Tensor::sub);
    }

    public Tensor sub_(double value) {
        return sub_(scalarLike(value));
    }

    public Tensor mul_(Tensor other) {
        return InPlace.binary(this, other, BinaryKernel.MUL, "mul_", Tensor::mul);
    }

    public Tensor mul_(double value) {
        return mul_(scalarLike(value));
    }

    public Tensor div_(Tensor other) {
        return InPlace.binary(this, other, BinaryKernel.DIV, "div_", Tensor::div);
    }

    public Tensor div_(double value) {
        return div_(scalarLike(value));
    }

    public Tensor clamp_(double min, double max) {
        return InPlace.unary(this, "clamp_", t -> t.clamp(min, max));
    }

    public Tensor relu_() {
        return InPlace.unary(this, "relu_", Tensor::relu);
    }

    // ------------------------------------------------------------------ printing

    /** PyTorch's printout, e.g. {@code tensor([1., 2.], requires_grad=True)}. */
    @Override
    public String toString() {
        return TensorFormatter.format(this);
    }

    /** Identity, as PyTorch tensors: two tensors are equal only if they are the same object. */
    @Override
    public final boolean equals(Object o) {
        return this == o;
    }

    @Override
    public final int hashCode() {
        return System.identityHashCode(this);
    }

    /** Values and shape equal (not identity). Use for tests; floats compared exactly. */
    public boolean valueEquals(Tensor other) {
        return Arrays.equals(shape, other.shape) && Arrays.equals(toDoubleArray(), other.toDoubleArray());
    }

    /** {@code true} when every pair of elements is within {@code atol + rtol * |other|}. */
    public boolean allClose(Tensor other, double rtol, double atol) {
        if (!Arrays.equals(shape, other.shape)) {
            return false;
        }
        double[] a = toDoubleArray();
        double[] b = other.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i])) && !(Double.isNaN(a[i]) && Double.isNaN(b[i]))) {
                return false;
            }
        }
        return true;
    }

    /** The tensor this one is a view of, or null. */
    public Tensor viewBase() {
        return viewBase;
    }
}
