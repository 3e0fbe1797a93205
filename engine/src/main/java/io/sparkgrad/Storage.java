package io.sparkgrad;

/**
 * The flat primitive array behind one or more tensors (a tensor and all its views share one
 * storage). It also carries the version counter that PyTorch keeps per storage: every in-place
 * write bumps it, so autograd can tell when a tensor it saved for backward was changed.
 */
public final class Storage {
    private final DType dtype;
    private final float[] floats;
    private final double[] doubles;
    private final long[] longs;
    /** Non-null when the values live on an accelerator; the arrays are then all null. */
    private final DeviceMemory memory;
    private volatile int version;

    private Storage(DType dtype, float[] floats, double[] doubles, long[] longs) {
        this(dtype, floats, doubles, longs, null);
    }

    private Storage(DType dtype, float[] floats, double[] doubles, long[] longs, DeviceMemory memory) {
        this.dtype = dtype;
        this.floats = floats;
        this.doubles = doubles;
        this.longs = longs;
        this.memory = memory;
    }

    /** A storage whose values live in {@code memory} on a device (allocated by that device's backend). */
    public static Storage onDevice(DType dtype, DeviceMemory memory) {
        return new Storage(dtype, null, null, null, memory);
    }

    /** Where the values live. */
    public Device device() {
        return memory == null ? Device.CPU : memory.device();
    }

    /** True when the values live on an accelerator (no Java array behind them). */
    public boolean onDevice() {
        return memory != null;
    }

    /** The device memory, or null for a heap storage. */
    public DeviceMemory memory() {
        return memory;
    }

    public static Storage allocate(DType dtype, int size) {
        switch (dtype) {
            case FLOAT32: return new Storage(dtype, new float[size], null, null);
            case FLOAT64: return new Storage(dtype, null, new double[size], null);
            default: return new Storage(dtype, null, null, new long[size]);
        }
    }

    public static Storage wrap(float[] data) {
        return new Storage(DType.FLOAT32, data, null, null);
    }

    public static Storage wrap(double[] data) {
        return new Storage(DType.FLOAT64, null, data, null);
    }

    public static Storage wrap(long[] data) {
        return new Storage(DType.INT64, null, null, data);
    }

    public DType dtype() {
        return dtype;
    }

    public int size() {
        if (memory != null) {
            return memory.size();
        }
        switch (dtype) {
            case FLOAT32: return floats.length;
            case FLOAT64: return doubles.length;
            default: return longs.length;
        }
    }

    /** The float32 array; only valid for {@link DType#FLOAT32} storage. */
    public float[] floats() {
        return floats;
    }

    /** The float64 array; only valid for {@link DType#FLOAT64} storage. */
    public double[] doubles() {
        return doubles;
    }

    /** The int64 array; only valid for {@link DType#INT64} storage. */
    public long[] longs() {
        return longs;
    }

    public int version() {
        return version;
    }

    /** Called by every in-place write. Not atomic on purpose: one storage is written by one thread. */
    public void bumpVersion() {
        version++;
    }

    /** Writes one element, converting from double. */
    public void setFromDouble(int index, double v) {
        requireHost("setFromDouble");
        switch (dtype) {
            case FLOAT32: floats[index] = (float) v; break;
            case FLOAT64: doubles[index] = v; break;
            default: longs[index] = (long) v; break;
        }
    }

    /** Reads one element as a double. */
    public double getAsDouble(int index) {
        requireHost("getAsDouble");
        switch (dtype) {
            case FLOAT32: return floats[index];
            case FLOAT64: return doubles[index];
            default: return longs[index];
        }
    }

    private void requireHost(String what) {
        if (memory != null) {
            throw new IllegalStateException(what + ": the values live on " + memory.device()
                    + "; move the tensor with .to(Device.CPU) to read them element by element");
        }
    }
}
