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
    /** The first buffer a task reads a row into; it doubles as the row's data arrives. */
    private static final int FIRST_CHUNK = 1 << 16;

    private IdxSource() {
    }

    /** The parsed header of one IDX file. */
    record Header(String file, int type, int[] dims, boolean gzip, long fileLength) implements Serializable {
        long count() {
            return dims[0];
        }

        /**
         * Values per example: the product of the dimensions after the first, at most
         * {@link #MAX_ROW_VALUES} (checked when the header is parsed).
         */
        int rowValues() {
            return Math.toIntExact(rowValues(dims, dims.length));
        }

        /** The product of {@code dims[1..n)}, or -1 once it passes {@link #MAX_ROW_VALUES} (which cannot overflow). */
        static long rowValues(int[] dims, int n) {
            long product = 1;
            for (int i = 1; i < n; i++) {
                product *= dims[i];
                if (product > MAX_ROW_VALUES) {
                    return -1;
                }
            }
            return product;
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
        Header img = imagesHeader(conf, images);
        Header lab = labels == null ? null : labelsHeader(conf, labels, img);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<long[]> ranges = ranges(img, limit, partitions > 0 ? partitions : jsc.defaultParallelism());
        HadoopConf shipped = new HadoopConf(conf);
        Header imgHeader = img;
        Header labHeader = lab;
        JavaRDD<Row> rdd = jsc.parallelize(ranges, ranges.size())
                .mapPartitions(it -> readRanges(shipped, imgHeader, labHeader, it));
        return spark.createDataFrame(rdd, schema(lab != null));
    }

    /** The rows {@code [from, to)} of each of (at most) {@code partitions} partitions of the first {@code limit} rows (0: all). */
    static List<long[]> ranges(Header img, long limit, int partitions) {
        long rows = limit > 0 ? Math.min(limit, img.count()) : img.count();
        int parts = (int) Math.max(1, Math.min(rows, partitions));
        List<long[]> ranges = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            ranges.add(new long[] {rows * p / parts, rows * (p + 1) / parts});
        }
        return ranges;
    }

    /**
     * What {@link #read} computes, on this thread and without Spark: the same header checks, then the
     * partitions' ranges read one after another, as the tasks would. For tests of hostile files.
     */
    static Iterator<Row> readHere(Configuration conf, String images, String labels, long limit, int partitions) {
        Header img = imagesHeader(conf, images);
        Header lab = labels == null ? null : labelsHeader(conf, labels, img);
        return readRanges(new HadoopConf(conf), img, lab, ranges(img, limit, partitions).iterator());
    }

    private static Header imagesHeader(Configuration conf, String images) {
        Header img = readHeader(conf, images, "--input");
        if (img.dims().length < 2) {
            throw new BadInputException(images + ": an IDX images file has at least 2 dimensions (examples, values), "
                    + "this one has shape " + img.shape());
        }
        return img;
    }

    private static Header labelsHeader(Configuration conf, String labels, Header img) {
        Header lab = readHeader(conf, labels, "--labels");
        if (lab.dims().length != 1) {
            throw new BadInputException(labels + ": an IDX labels file has 1 dimension, this one has shape "
                    + lab.shape());
        }
        if (lab.count() != img.count()) {
            throw new BadInputException(labels + " holds " + lab.count() + " labels but " + img.file() + " holds "
                    + img.count() + " examples");
        }
        return lab;
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
                if (gzip && h.count() == 0 && data.read() >= 0) {
                    throw new BadInputException(file + ": the uncompressed data goes on past byte offset "
                            + h.headerBytes() + ", where the header of a file of 0 examples ends");
                }
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
            if (Header.rowValues(dims, i + 1) < 0) {
                throw new BadInputException(file + ": dimension " + i + " is " + dims[i] + " at byte offset "
                        + (4 + 4 * i) + ", which makes more than the " + MAX_ROW_VALUES
                        + " values per example supported (a 4096 x 4096 image)");
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
            // grown as a row's data arrives, so a header's claim alone allocates at most one chunk
            private byte[] imageBuf = new byte[(int) Math.min(img.rowBytes(), FIRST_CHUNK)];
            private byte[] labelBuf = lab == null ? null : new byte[lab.elementBytes()];

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
                    imageBuf = readRow(images, imageBuf, img, next);
                    float[] features = decode(imageBuf, img);
                    Row row;
                    if (lab == null) {
                        row = RowFactory.create(features);
                    } else {
                        labelBuf = readRow(labels, labelBuf, lab, next);
                        row = RowFactory.create(features, (double) decode(labelBuf, lab)[0]);
                    }
                    next++;
                    if (next == img.count()) {
                        checkEnd(images, img);
                        checkEnd(labels, lab);
                    }
                    return row;
                } catch (IOException e) {
                    // a damaged gzip stream (a broken block or trailer) or a failing file system
                    throw new BadInputException(img.file() + ": cannot read row " + next + " at byte offset "
                            + (img.headerBytes() + next * img.rowBytes()) + (img.gzip() ? " of the uncompressed stream"
                            : "") + (lab == null ? "" : " (or its label in " + lab.file() + ")") + ": "
                            + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
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

    /**
     * Reads row {@code row} into {@code buf}, or into a larger copy once the data read fills it: the
     * buffer grows only as data arrives, to at most twice what was read, so a gzip header that lies
     * about the row size costs no more than the data really there. Returns the buffer holding the row
     * (exactly {@code h.rowBytes()} long).
     */
    private static byte[] readRow(InputStream in, byte[] buf, Header h, long row) throws IOException {
        int want = (int) h.rowBytes();
        int got = 0;
        while (got < want) {
            if (got == buf.length) {
                buf = java.util.Arrays.copyOf(buf, (int) Math.min(want, 2L * buf.length));
            }
            int n = in.read(buf, got, buf.length - got);
            if (n < 0) {
                throw new BadInputException(h.file() + ": the data ends inside row " + row + " at byte offset "
                        + (h.headerBytes() + row * h.rowBytes() + got) + (h.gzip() ? " of the uncompressed stream" : "")
                        + "; the header promised " + h.count() + " rows of " + h.rowBytes() + " bytes (cut short?)");
            }
            got += n;
        }
        return buf;
    }

    /** After the last row of a gzip file (a plain file's size is checked up front): the data must end there. */
    private static void checkEnd(InputStream in, Header h) throws IOException {
        if (h != null && h.gzip() && in.read() >= 0) {
            throw new BadInputException(h.file() + ": the uncompressed data goes on past byte offset "
                    + (h.headerBytes() + h.count() * h.rowBytes()) + ", where the " + h.count()
                    + " rows the header promises end (shape " + h.shape() + ")");
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
