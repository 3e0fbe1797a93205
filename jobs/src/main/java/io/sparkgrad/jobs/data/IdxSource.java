package io.sparkgrad.jobs.data;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * IDX files (the MNIST family: an images file and a labels file, plain or gzip) as a DataFrame
 * {@code (features: array<float>, label: double)}, read in parallel: the driver reads and checks both
 * headers, then each task opens the files on its own (any Hadoop file system), skips to its range
 * of rows and decodes only those. Features are float32, the trainer's precision: unsigned-byte
 * values become {@code v / 255} computed in float32, as {@link io.sparkgrad.data.IdxReader#readImages}
 * and torchvision's {@code ToTensor} compute them; other element types are converted as they are.
 *
 * <p>Format: two zero bytes, a type byte ({@code 0x08} unsigned byte, {@code 0x09} signed byte,
 * {@code 0x0B} int16, {@code 0x0C} int32, {@code 0x0D} float32, {@code 0x0E} float64), the number of
 * dimensions, then each dimension as a big-endian int32, then the values in row-major order,
 * big-endian. The first dimension counts the examples.
 */
public final class IdxSource {
    /** The most values one example may have (a 4096 x 4096 image). */
    static final long MAX_ROW_VALUES = 1L << 24;

    private IdxSource() {
    }

    /** The parsed header of one IDX file. */
    record Header(String file, int type, int[] dims, boolean gzip, long fileLength) implements Serializable {
        long count() {
            return dims[0];
        }

        /** Values per example: the product of the dimensions after the first. */
        int rowValues() {
            long n = 1;
            for (int i = 1; i < dims.length; i++) {
                n *= dims[i];
            }
            return (int) n;
        }

        int elementBytes() {
            return elementBytes(type);
        }

        static int elementBytes(int type) {
            switch (type) {
                case 0x08: case 0x09: return 1;
                case 0x0B: return 2;
                case 0x0C: case 0x0D: return 4;
                case 0x0E: return 8;
                default: return -1;
            }
        }

        long headerBytes() {
            return 4L + 4L * dims.length;
        }

        long rowBytes() {
            return (long) rowValues() * elementBytes();
        }

        String shape() {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < dims.length; i++) {
                b.append(i > 0 ? ", " : "").append(dims[i]);
            }
            return b.append(']').toString();
        }
    }

    /** Whether {@code name} looks like an IDX file ({@code …-idx3-ubyte}, {@code .idx}, optionally {@code .gz}). */
    public static boolean looksLikeIdx(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".gz")) {
            n = n.substring(0, n.length() - 3);
        }
        return n.matches(".*[-.]idx\\d-[a-z0-9]+") || n.endsWith(".idx");
    }

    /**
     * The labels file that goes with {@code images} by the MNIST naming convention
     * ({@code train-images-idx3-ubyte.gz} → {@code train-labels-idx1-ubyte.gz}), or null when the name
     * does not follow it.
     */
    public static String defaultLabels(String images) {
        int slash = images.lastIndexOf('/');
        String dir = images.substring(0, slash + 1);
        String name = images.substring(slash + 1);
        String labels = name.replace("images", "labels").replaceAll("idx\\d-", "idx1-");
        return labels.equals(name) ? null : dir + labels;
    }

    /**
     * The DataFrame of {@code images} (and {@code labels}, when not null) with columns
     * {@code features} (an array of float32, the form the trainer converts fastest) and {@code label}
     * (double), at most {@code limit} rows
     * (0: all), in {@code partitions} partitions (0: the context's default parallelism).
     *
     * @throws BadInputException for a file that is missing or whose header is not IDX, or two files that disagree
     */
    public static Dataset<Row> read(SparkSession spark, String images, String labels, long limit, int partitions) {
        Configuration conf = spark.sessionState().newHadoopConf();
        Header img = readHeader(conf, images, "--input");
        if (img.dims().length < 2) {
            throw new BadInputException(images + ": an IDX images file has at least 2 dimensions (examples, values), "
                    + "this one has shape " + img.shape());
        }
        if (img.rowValues() > MAX_ROW_VALUES) {
            throw new BadInputException(images + ": " + img.rowValues() + " values per example (shape " + img.shape()
                    + ") is more than the " + MAX_ROW_VALUES + " supported");
        }
        Header lab = null;
        if (labels != null) {
            lab = readHeader(conf, labels, "--labels");
            if (lab.dims().length != 1) {
                throw new BadInputException(labels + ": an IDX labels file has 1 dimension, this one has shape "
                        + lab.shape());
            }
            if (lab.count() != img.count()) {
                throw new BadInputException(labels + " holds " + lab.count() + " labels but " + images + " holds "
                        + img.count() + " examples");
            }
        }
        long rows = limit > 0 ? Math.min(limit, img.count()) : img.count();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int parts = (int) Math.max(1, Math.min(rows, partitions > 0 ? partitions : jsc.defaultParallelism()));
        List<long[]> ranges = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            ranges.add(new long[] {rows * p / parts, rows * (p + 1) / parts});
        }
        HadoopConf shipped = new HadoopConf(conf);
        Header imgHeader = img;
        Header labHeader = lab;
        JavaRDD<Row> rdd = jsc.parallelize(ranges, parts)
                .mapPartitions(it -> readRanges(shipped, imgHeader, labHeader, it));
        return spark.createDataFrame(rdd, schema(lab != null));
    }

    /** {@code features: array<float>} and, with labels, {@code label: double}. */
    static StructType schema(boolean withLabels) {
        List<StructField> fields = new ArrayList<>();
        fields.add(DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false));
        if (withLabels) {
            fields.add(DataTypes.createStructField("label", DataTypes.DoubleType, false));
        }
        return DataTypes.createStructType(fields);
    }

    /** Reads and checks the header of {@code file}; {@code option} names the argument in errors. */
    static Header readHeader(Configuration conf, String file, String option) {
        Path path = new Path(file);
        try {
            FileSystem fs = path.getFileSystem(conf);
            if (!fs.exists(path)) {
                throw new BadInputException(option + ": " + file + " does not exist");
            }
            if (!fs.getFileStatus(path).isFile()) {
                throw new BadInputException(option + ": " + file + " is a directory; an IDX input is one file");
            }
            long length = fs.getFileStatus(path).getLen();
            try (InputStream raw = fs.open(path)) {
                BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
                in.mark(2);
                int b0 = in.read();
                int b1 = in.read();
                in.reset();
                boolean gzip = b0 == 0x1f && b1 == 0x8b;
                DataInputStream data = new DataInputStream(gzip ? new GZIPInputStream(in) : in);
                Header h = parseHeader(data, file, gzip, length);
                if (!gzip) {
                    long expected = h.headerBytes() + h.count() * h.rowBytes();
                    if (expected != length) {
                        throw new BadInputException(file + ": the header says shape " + h.shape() + " of "
                                + h.elementBytes() + "-byte values, " + expected + " bytes in all, but the file has "
                                + length + " bytes");
                    }
                }
                return h;
            }
        } catch (EOFException e) {
            throw new BadInputException(file + ": ends inside the IDX header (not an IDX file, or empty)", e);
        } catch (IOException e) {
            throw new BadInputException(option + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static Header parseHeader(DataInputStream in, String file, boolean gzip, long length) throws IOException {
        int z0 = in.readUnsignedByte();
        int z1 = in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int ndim = in.readUnsignedByte();
        if (z0 != 0 || z1 != 0 || Header.elementBytes(type) < 0) {
            throw new BadInputException(String.format(java.util.Locale.ROOT,
                    "%s: not an IDX file: its magic number is 0x%02x%02x%02x%02x, expected 0x0000TTNN with a type TT "
                            + "of 08, 09, 0B, 0C, 0D or 0E", file, z0, z1, type, ndim));
        }
        if (ndim < 1 || ndim > 8) {
            throw new BadInputException(file + ": the header gives " + ndim + " dimensions, expected 1 to 8");
        }
        int[] dims = new int[ndim];
        for (int i = 0; i < ndim; i++) {
            dims[i] = in.readInt();
            if (dims[i] < 0 || (dims[i] == 0 && i > 0)) {
                throw new BadInputException(file + ": dimension " + i + " is " + dims[i] + " at byte offset "
                        + (4 + 4 * i) + "; expected a positive size");
            }
        }
        return new Header(file, type, dims, gzip, length);
    }

    /**
     * The rows of the ranges in {@code it}, decoded lazily one row at a time from one open stream per
     * file (closed at the end of each range, and when the task ends early).
     */
    private static Iterator<Row> readRanges(HadoopConf conf, Header img, Header lab, Iterator<long[]> ranges) {
        return new Iterator<Row>() {
            private long next;
            private long end;
            private DataInputStream images;
            private DataInputStream labels;
            private final byte[] imageBuf = new byte[(int) img.rowBytes()];
            private final byte[] labelBuf = lab == null ? null : new byte[lab.elementBytes()];

            {
                TaskContext tc = TaskContext.get();
                if (tc != null) {
                    tc.addTaskCompletionListener((TaskCompletionListener) ctx -> close());
                }
            }

            @Override
            public boolean hasNext() {
                while (next >= end) {
                    close();
                    if (!ranges.hasNext()) {
                        return false;
                    }
                    long[] r = ranges.next();
                    next = r[0];
                    end = r[1];
                    if (next < end) {
                        try {
                            images = openAt(conf, img, next);
                            labels = lab == null ? null : openAt(conf, lab, next);
                        } catch (IOException e) {
                            throw new BadInputException("cannot read " + img.file() + ": " + e.getMessage(), e);
                        }
                    }
                }
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                try {
                    readRow(images, imageBuf, img, next);
                    float[] features = decode(imageBuf, img);
                    Row row;
                    if (lab == null) {
                        row = RowFactory.create(features);
                    } else {
                        readRow(labels, labelBuf, lab, next);
                        row = RowFactory.create(features, (double) decode(labelBuf, lab)[0]);
                    }
                    next++;
                    return row;
                } catch (IOException e) {
                    throw new BadInputException("cannot read row " + next + " of " + img.file() + ": " + e.getMessage(), e);
                }
            }

            private void close() {
                for (DataInputStream s : new DataInputStream[] {images, labels}) {
                    if (s != null) {
                        try {
                            s.close();
                        } catch (IOException ignored) {
                            // read-only streams: nothing is lost
                        }
                    }
                }
                images = null;
                labels = null;
            }
        };
    }

    private static DataInputStream openAt(HadoopConf conf, Header h, long row) throws IOException {
        Path path = new Path(h.file());
        FileSystem fs = path.getFileSystem(conf.get());
        InputStream raw = fs.open(path);
        try {
            InputStream in = h.gzip() ? new GZIPInputStream(raw, 1 << 16) : raw;
            DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16));
            long skip = h.headerBytes() + row * h.rowBytes();
            long skipped = data.skip(skip);
            while (skipped < skip) {
                long s = data.skip(skip - skipped);
                if (s <= 0) {
                    if (data.read() < 0) {
                        throw new BadInputException(h.file() + ": the data ends at byte " + skipped
                                + (h.gzip() ? " of the uncompressed stream" : "") + ", before row " + row
                                + " (cut short?)");
                    }
                    s = 1;
                }
                skipped += s;
            }
            return data;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static void readRow(DataInputStream in, byte[] buf, Header h, long row) throws IOException {
        try {
            in.readFully(buf);
        } catch (EOFException e) {
            throw new BadInputException(h.file() + ": the data ends inside row " + row + " (byte offset "
                    + (h.headerBytes() + row * h.rowBytes()) + (h.gzip() ? " of the uncompressed stream" : "")
                    + "); the header promised " + h.count() + " rows of " + h.rowBytes() + " bytes (cut short?)", e);
        }
    }

    /**
     * One row's values as float32: unsigned bytes of images divided by 255 in float32 (as
     * {@code IdxReader.readImages} and torchvision's {@code ToTensor}), other values as they are.
     */
    private static float[] decode(byte[] b, Header h) {
        int n = b.length / h.elementBytes();
        float[] v = new float[n];
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b); // big-endian, as IDX is
        switch (h.type()) {
            case 0x08:
                for (int i = 0; i < n; i++) {
                    v[i] = h.dims().length > 1 ? (b[i] & 0xff) / 255f : (b[i] & 0xff);
                }
                break;
            case 0x09:
                for (int i = 0; i < n; i++) {
                    v[i] = b[i];
                }
                break;
            case 0x0B:
                for (int i = 0; i < n; i++) {
                    v[i] = bb.getShort();
                }
                break;
            case 0x0C:
                for (int i = 0; i < n; i++) {
                    v[i] = bb.getInt();
                }
                break;
            case 0x0D:
                for (int i = 0; i < n; i++) {
                    v[i] = bb.getFloat();
                }
                break;
            default:
                for (int i = 0; i < n; i++) {
                    v[i] = (float) bb.getDouble();
                }
        }
        return v;
    }
}
