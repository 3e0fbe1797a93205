package io.sparkgrad.io;

import io.sparkgrad.DType;
import io.sparkgrad.Shapes;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;

import java.util.Arrays;

/**
 * The values of a tensor being read from a file whose header claims how many there are. A reader
 * that knows the claim is backed by the file's size allocates it all at once; one reading a stream
 * of unknown length (gzip, a network file system) starts small and lets the array double only as
 * values actually arrive, so a header that lies costs at most twice the bytes really present,
 * never the gigabytes it claims. The readers of every file format share this one policy.
 */
public final class GrowingStorage {
    private final DType dtype;
    private final int claimed;
    private float[] floats;
    private double[] doubles;
    private long[] longs;
    private int capacity;

    /**
     * @param claimed         the element count the header promises; the array never grows beyond it
     * @param initialCapacity how many to allocate now: {@code claimed} when the file's size has been
     *                        checked against the claim, a chunk's worth when it cannot be
     */
    public GrowingStorage(DType dtype, int claimed, int initialCapacity) {
        if (claimed < 0 || initialCapacity < 0 || initialCapacity > claimed) {
            throw new IllegalArgumentException("capacity " + initialCapacity + " for " + claimed + " elements");
        }
        this.dtype = dtype;
        this.claimed = claimed;
        this.capacity = initialCapacity;
        switch (dtype) {
            case FLOAT32: floats = new float[initialCapacity]; break;
            case FLOAT64: doubles = new double[initialCapacity]; break;
            case INT64: longs = new long[initialCapacity]; break;
            default: throw new IllegalArgumentException("no primitive storage for " + dtype);
        }
    }

    /**
     * Makes room for the first {@code length} elements (called once their bytes have arrived),
     * at least doubling so that growing to {@code n} costs amortised O(n) copying.
     */
    public void reserve(int length) {
        if (length > claimed) {
            throw new IllegalArgumentException(length + " elements reserved, but only " + claimed + " were claimed");
        }
        if (length <= capacity) {
            return;
        }
        capacity = (int) Math.min(claimed, Math.max(2L * capacity, length));
        switch (dtype) {
            case FLOAT32: floats = Arrays.copyOf(floats, capacity); break;
            case FLOAT64: doubles = Arrays.copyOf(doubles, capacity); break;
            default: longs = Arrays.copyOf(longs, capacity); break;
        }
    }

    /** How many elements the current array holds room for. */
    public int capacity() {
        return capacity;
    }

    public DType dtype() {
        return dtype;
    }

    /** The float32 array to fill (replaced by {@link #reserve}); only for {@link DType#FLOAT32}. */
    public float[] floats() {
        return floats;
    }

    /** The float64 array to fill (replaced by {@link #reserve}); only for {@link DType#FLOAT64}. */
    public double[] doubles() {
        return doubles;
    }

    /** The int64 array to fill (replaced by {@link #reserve}); only for {@link DType#INT64}. */
    public long[] longs() {
        return longs;
    }

    /** The finished values as a contiguous tensor of {@code shape}, which must hold exactly the claimed count. */
    public Tensor toTensor(int[] shape) {
        if (Shapes.numel(shape) != claimed || capacity != claimed) {
            throw new IllegalStateException("shape " + Shapes.str(shape) + " for " + capacity + " of " + claimed
                    + " claimed elements");
        }
        Storage storage;
        switch (dtype) {
            case FLOAT32: storage = Storage.wrap(floats); break;
            case FLOAT64: storage = Storage.wrap(doubles); break;
            default: storage = Storage.wrap(longs); break;
        }
        return Tensor.view(storage, shape, Shapes.contiguousStrides(shape), 0);
    }
}
