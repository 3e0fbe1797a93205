package io.sparkgrad.jobs.data;

import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.TypeLayout;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.ipc.ArrowFileWriter;
import org.apache.arrow.vector.compression.CompressionUtil;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.MessageChannelReader;
import org.apache.arrow.vector.ipc.message.MessageResult;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.UUID;

/**
 * Arrow IPC files to and from DataFrames, with Arrow Java (the version the cluster's Spark brings).
 *
 * <p>Reading: a file, a directory of files (names starting with {@code .} or {@code _} are
 * skipped) or a glob; each file is read by one task, in the IPC <em>file</em> format
 * ({@code ARROW1} magic, as {@code pyarrow.feather}/{@code pa.ipc.new_file} write it) or the
 * <em>stream</em> format. Columns: integers, floats, booleans, UTF-8 strings, and lists or
 * fixed-size lists of numbers (which become {@code array<…>} columns, usable as features). Every
 * file must have the first file's schema.
 *
 * <p>Writing: one IPC file per partition, {@code part-00000.arrow}, …, each written under a hidden
 * temporary name and renamed when complete. Numbers, booleans, strings, ML vectors and arrays of
 * numbers are written; vectors and arrays become {@code List<…>} columns.
 */
public final class ArrowIpc {
    /** Rows per record batch written. */
    static final int BATCH_ROWS = 4096;
    private static final byte[] FILE_MAGIC = "ARROW1".getBytes(StandardCharsets.US_ASCII);
    /** The largest schema message accepted: far above any real schema, far below what a stray length could ask. */
    private static final int MAX_METADATA_BYTES = 64 << 20;
    /**
     * The memory (off-heap) one file's reader may take beyond four bytes per byte of the file: a
     * checked batch needs its body and the validity bitmaps Arrow makes, under two bytes per byte;
     * this bound stops whatever a check might miss before it takes the machine's memory.
     */
    private static final long READER_MEMORY_SLACK = 64L << 20;

    private ArrowIpc() {
    }

    /** Whether {@code name} has an Arrow IPC extension. */
    public static boolean looksLikeArrow(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".arrow") || n.endsWith(".arrows") || n.endsWith(".ipc") || n.endsWith(".feather");
    }

    /** One allocator per JVM; each reader and writer takes a child and closes it. */
    private static final class Root {
        static final RootAllocator ALLOCATOR = new RootAllocator(Long.MAX_VALUE);
    }

    // ------------------------------------------------------------------ reading

    /**
     * The rows of the Arrow IPC files at {@code path} (at most {@code limit}; 0: all).
     *
     * @throws BadInputException when nothing matches, a file is not Arrow IPC, or a column type is not supported
     */
    public static Dataset<Row> read(SparkSession spark, String path, long limit) {
        Configuration conf = spark.sessionState().newHadoopConf();
        List<String> files = list(conf, path);
        StructType schema = firstSchema(conf, files.get(0), Root.ALLOCATOR);
        HadoopConf shipped = new HadoopConf(conf);
        StructType expected = schema;
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> rows = jsc.parallelize(files, files.size()).mapPartitions(it -> rows(shipped, it, expected));
        Dataset<Row> df = spark.createDataFrame(rows, schema);
        return limit > 0 ? df.limit((int) Math.min(Integer.MAX_VALUE, limit)) : df;
    }

    /**
     * What {@link #read} computes for one file, on this thread and without Spark, with the reader's
     * memory taken from {@code parent}: for tests of hostile files.
     */
    static Iterator<Row> readHere(Configuration conf, String file, BufferAllocator parent) {
        StructType schema = firstSchema(conf, file, parent);
        return rows(new HadoopConf(conf), List.of(file).iterator(), schema, parent);
    }

    /** The Spark schema of {@code file}, which the other files must share. */
    private static StructType firstSchema(Configuration conf, String file, BufferAllocator parent) {
        try (Reader r = new Reader(conf, file, parent)) {
            return sparkSchema(r.schema(), file);
        } catch (IOException e) {
            throw new BadInputException("--input: cannot read " + file + " as Arrow IPC: " + e.getMessage(), e);
        }
    }

    private static List<String> list(Configuration conf, String path) {
        List<String> out = new ArrayList<>();
        for (FileStatus f : DataFiles.list(conf, path, "--input", false)) {
            out.add(f.getPath().toString());
        }
        if (out.isEmpty()) {
            throw new BadInputException("--input: " + path + " holds no files");
        }
        return out;
    }

    /**
     * An Arrow IPC reader over a Hadoop file, file or stream format, that checks every message
     * against the file before Arrow allocates for it: the metadata and body lengths against the bytes
     * left, each record batch's counts, buffer sizes and offsets against its schema. Its memory comes
     * from an allocator of its own, bounded by the file's size.
     */
    private static final class Reader implements AutoCloseable {
        private final String file;
        private final long length;
        private final BufferedInputStream in;
        private final BufferAllocator alloc;
        private final CheckedMessages messages;
        private final CheckedReader reader;
        private int batches;

        Reader(Configuration conf, String file, BufferAllocator parent) throws IOException {
            this.file = file;
            Path p = new Path(file);
            FileSystem fs = p.getFileSystem(conf);
            this.length = fs.getFileStatus(p).getLen();
            BufferedInputStream buffered = new BufferedInputStream(fs.open(p), 1 << 16);
            BufferAllocator child = null;
            CheckedMessages m = null;
            CheckedReader r = null;
            try {
                buffered.mark(8);
                byte[] head = buffered.readNBytes(8);
                long start = 0;
                if (head.length >= 6 && Arrays.equals(Arrays.copyOf(head, 6), FILE_MAGIC)) {
                    // The file format is the magic, two bytes of padding, the stream format and a footer.
                    if (head.length < 8) {
                        throw new BadInputException(file + ": cut short after the Arrow magic");
                    }
                    start = 8;
                } else {
                    buffered.reset();
                }
                checkFirstMessage(buffered, file);
                this.in = buffered;
                child = parent.newChildAllocator(file, 0, READER_MEMORY_SLACK + 4 * length);
                this.alloc = child;
                m = new CheckedMessages(this, start, child);
                this.messages = m;
                r = new CheckedReader(this, m, child);
                this.reader = r;
                Schema schema = r.getVectorSchemaRoot().getSchema(); // reads the schema message
                if (schema.getFields().isEmpty()) {
                    throw new BadInputException(file + ": its schema has no columns");
                }
            } catch (IOException | RuntimeException | StackOverflowError e) {
                try {
                    if (r != null) {
                        r.close();
                    }
                } catch (IOException | RuntimeException ignored) {
                    // the error to report is e
                } finally {
                    if (m != null) {
                        m.releaseLastBody();
                    }
                    buffered.close();
                    if (child != null) {
                        closeQuietly(child);
                    }
                }
                if (e instanceof BadInputException) {
                    throw (BadInputException) e;
                }
                throw new BadInputException(file + ": not an Arrow IPC file or stream (" + (e instanceof StackOverflowError
                        ? "its schema nests fields without end, a loop in its metadata" : oneLine(e)) + ")", e);
            }
        }

        /** Where the next message starts, counted from the start of the file. */
        long offset() {
            return messages.start + messages.bytesRead();
        }

        BadInputException bad(long at, String problem) {
            return new BadInputException(file + ": " + problem + " (at byte offset " + at + ")");
        }

        /**
         * The stream must start with a message: the continuation marker {@code 0xFFFFFFFF} and a
         * little-endian metadata length (or, before Arrow 0.15, the length alone), of a sane size.
         * Checked before Arrow Java reads it, which would otherwise allocate whatever length the
         * first bytes of a file that is not Arrow happen to say.
         */
        private static void checkFirstMessage(BufferedInputStream in, String file) throws IOException {
            in.mark(8);
            byte[] b = in.readNBytes(8);
            in.reset();
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int first = b.length >= 4 ? bb.getInt(0) : 0;
            int length = first == -1 ? (b.length == 8 ? bb.getInt(4) : 0) : first;
            if (length <= 0 || length > MAX_METADATA_BYTES) {
                throw new BadInputException(file + ": not an Arrow IPC file or stream (its first bytes are no Arrow "
                        + "message; expected the ARROW1 magic or a schema message)");
            }
        }

        Schema schema() throws IOException {
            return reader.getVectorSchemaRoot().getSchema();
        }

        VectorSchemaRoot root() throws IOException {
            return reader.getVectorSchemaRoot();
        }

        /**
         * Loads the next record batch, checked; false at the end. Anything Arrow throws on a batch
         * that passed the checks becomes a {@link BadInputException} too.
         */
        boolean loadNextBatch() {
            long at = offset();
            try {
                boolean loaded = reader.loadNextBatch();
                batches += loaded ? 1 : 0;
                return loaded;
            } catch (BadInputException e) {
                throw e;
            } catch (OutOfMemoryException e) {
                throw bad(at, "record batch " + batches + " needs more memory than a file of " + length
                        + " bytes can justify (" + (READER_MEMORY_SLACK + 4 * length) + " bytes): a length or count "
                        + "in it is wrong");
            } catch (IOException | RuntimeException e) {
                throw bad(at, "cannot read record batch " + batches + ": " + oneLine(e));
            }
        }

        @Override
        public void close() throws IOException {
            try {
                reader.close();
            } finally {
                messages.releaseLastBody();
                in.close();
                closeQuietly(alloc);
            }
        }
    }

    /**
     * Checks each message's lengths before Arrow's reader reads it: the metadata must fit the file
     * and the 64 MiB bound, and the body (which Arrow allocates in one piece) the bytes left.
     */
    private static final class CheckedMessages extends MessageChannelReader {
        private final Reader owner;
        private final long start;
        /** Where the message read last starts. */
        private long last;
        /** The body of the message read last, which Arrow does not give back when it fails to decode it. */
        private ArrowBuf body;

        CheckedMessages(Reader owner, long start, BufferAllocator alloc) {
            super(new ReadChannel(Channels.newChannel(owner.in)), alloc);
            this.owner = owner;
            this.start = start;
        }

        @Override
        public MessageResult readNext() throws IOException {
            long at = start + bytesRead();
            last = at;
            BufferedInputStream buffered = owner.in;
            buffered.mark(8);
            byte[] b = buffered.readNBytes(8);
            buffered.reset();
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            boolean marker = b.length >= 4 && bb.getInt(0) == -1;
            int prefix = marker ? 8 : 4;
            if (b.length < prefix) {
                return super.readNext(); // the end, or a stream cut short: Arrow tells which
            }
            int metadata = bb.getInt(prefix - 4);
            if (metadata == 0) {
                return super.readNext(); // the end-of-stream marker
            }
            long left = owner.length - at - prefix;
            if (metadata < 0 || metadata > Math.min(left, MAX_METADATA_BYTES)) {
                throw owner.bad(at, "a message gives its metadata length as " + metadata + ", but " + left
                        + " bytes are left in the file (at most " + MAX_METADATA_BYTES + " are accepted)");
            }
            buffered.mark(prefix + metadata);
            buffered.skipNBytes(prefix);
            byte[] meta = buffered.readNBytes(metadata);
            buffered.reset();
            long body;
            try {
                body = Message.getRootAsMessage(java.nio.ByteBuffer.wrap(meta).order(java.nio.ByteOrder.LITTLE_ENDIAN))
                        .bodyLength();
            } catch (RuntimeException e) {
                throw owner.bad(at, "a message's metadata is not an Arrow message (" + oneLine(e) + ")");
            }
            if (body < 0 || body > left - metadata) {
                throw owner.bad(at, "a message gives its body length as " + body + ", but " + (left - metadata)
                        + " bytes are left in the file");
            }
            MessageResult result = super.readNext();
            this.body = result == null ? null : result.getBodyBuffer();
            return result;
        }

        /**
         * Gives back what is left of the last body once the vectors are closed: nothing after a batch
         * that loaded, the whole body after one that Arrow failed to decode (it releases the body
         * only when decoding succeeds).
         */
        void releaseLastBody() {
            if (body != null && body.refCnt() > 0) {
                body.getReferenceManager().release(body.refCnt());
            }
            body = null;
        }
    }

    /** Arrow's stream reader, with each record batch checked against the schema before it is loaded. */
    private static final class CheckedReader extends ArrowStreamReader {
        private final Reader owner;

        CheckedReader(Reader owner, MessageChannelReader messages, BufferAllocator alloc) {
            super(messages, alloc);
            this.owner = owner;
        }

        @Override
        protected void loadRecordBatch(ArrowRecordBatch batch) {
            try {
                new BatchCheck(owner, batch).check(getVectorSchemaRoot().getSchema());
            } catch (IOException | RuntimeException e) {
                batch.close(); // its buffers go back now; closing again is a no-op
                throw e instanceof IOException ? new java.io.UncheckedIOException((IOException) e) : (RuntimeException) e;
            }
            super.loadRecordBatch(batch);
        }
    }

    /**
     * The checks of one record batch, in the order Arrow lays it out: a field node per column (then
     * per child, depth first) and the buffers of each. Each node's value count must fit its buffers,
     * offsets must rise from 0 or more and end inside the data they index, and a top-level column
     * must have as many values as the batch has rows: then Arrow allocates nothing the body does not
     * already hold (bar validity bitmaps it fills for columns without nulls, an eighth of a byte a row).
     */
    private static final class BatchCheck {
        private final Reader owner;
        private final ArrowRecordBatch batch;
        /** The next field node and the next buffer to check. */
        private int node, buffer;

        BatchCheck(Reader owner, ArrowRecordBatch batch) {
            this.owner = owner;
            this.batch = batch;
        }

        void check(Schema schema) {
            if (batch.getBodyCompression().getCodec() != CompressionUtil.CodecType.NO_COMPRESSION.getType()) {
                throw bad("is compressed (" + CompressionUtil.CodecType.fromCompressionType(
                        batch.getBodyCompression().getCodec()) + "), which this reader does not support; write the "
                        + "file uncompressed (pyarrow: compression='uncompressed')");
            }
            long rows = batch.getLength();
            if (rows < 0 || rows > 8 * batch.computeBodyLength() + 8) {
                throw bad("says it has " + rows + " rows in a body of " + batch.computeBodyLength() + " bytes");
            }
            for (Field f : schema.getFields()) {
                field(f, f.getName(), rows, true);
            }
            if (node != batch.getNodes().size() || buffer != batch.getBuffers().size()) {
                throw bad("has " + batch.getNodes().size() + " field nodes and " + batch.getBuffers().size()
                        + " buffers where its schema uses " + node + " and " + buffer);
            }
        }

        /** Checks field {@code f}, named {@code path}: {@code exactly} {@code values} values, or at least that many. */
        private void field(Field f, String path, long values, boolean exactly) {
            String col = "column '" + path + "'";
            if (node >= batch.getNodes().size()) {
                throw bad("has no field node for " + col);
            }
            ArrowFieldNode n = batch.getNodes().get(node++);
            long count = n.getLength();
            if (exactly ? count != values : count < values) {
                throw bad("gives " + col + " " + count + " values where " + (exactly ? "" : "at least ") + values
                        + " are needed");
            }
            if (n.getNullCount() < 0 || n.getNullCount() > count) {
                throw bad("gives " + col + " " + n.getNullCount() + " nulls in " + count + " values");
            }
            ArrowType t = f.getType();
            int buffers = TypeLayout.getTypeBufferCount(t);
            if (buffer + buffers > batch.getBuffers().size()) {
                throw bad("has too few buffers for " + col);
            }
            List<ArrowBuf> b = batch.getBuffers().subList(buffer, buffer + buffers);
            buffer += buffers;
            // Arrow makes its own bitmap for a column with no nulls only when the file gives none
            if (b.get(0).capacity() > 0 || (n.getNullCount() > 0 && n.getNullCount() < count)) {
                need(b.get(0), (count + 7) / 8, col + "'s validity bitmap");
            }
            if (t instanceof ArrowType.Int) {
                need(b.get(1), count * (((ArrowType.Int) t).getBitWidth() / 8), col);
            } else if (t instanceof ArrowType.FloatingPoint) {
                need(b.get(1), count * (((ArrowType.FloatingPoint) t).getPrecision() == FloatingPointPrecision.SINGLE ? 4 : 8),
                        col);
            } else if (t instanceof ArrowType.Bool) {
                need(b.get(1), (count + 7) / 8, col);
            } else if (t instanceof ArrowType.Utf8) {
                need(b.get(2), offsets(b.get(1), count, col), col + "'s characters");
            } else if (t instanceof ArrowType.List) {
                Field child = f.getChildren().get(0);
                field(child, path + "." + child.getName(), offsets(b.get(1), count, col), false);
            } else if (t instanceof ArrowType.FixedSizeList) {
                Field child = f.getChildren().get(0);
                field(child, path + "." + child.getName(), count * ((ArrowType.FixedSizeList) t).getListSize(), false);
            }
        }

        /** The end of the offsets of {@code count} values in {@code b}, checked to rise from 0 or more. */
        private long offsets(ArrowBuf b, long count, String col) {
            if (count == 0) {
                return 0;
            }
            need(b, 4 * (count + 1), col + "'s offsets");
            int previous = 0;
            for (long i = 0; i <= count; i++) {
                int o = b.getInt(4 * i);
                if (o < previous) {
                    throw bad("gives " + col + " offset " + o + " at position " + i + ", below "
                            + (i == 0 ? "zero" : "the offset before it, " + previous));
                }
                previous = o;
            }
            return previous;
        }

        private void need(ArrowBuf b, long bytes, String what) {
            if (b.capacity() < bytes) {
                throw bad("gives " + what + " " + b.capacity() + " bytes where its values need " + bytes);
            }
        }

        private BadInputException bad(String problem) {
            return owner.bad(owner.messages.last, "record batch " + owner.batches + " " + problem);
        }
    }

    /** The first line of an exception's message (Arrow's can run to many), or its class when it has none. */
    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip();
        int end = m.indexOf('\n');
        m = end < 0 ? m : m.substring(0, end);
        return m.length() > 300 ? m.substring(0, 300) + "…" : m;
    }

    /** Closes an allocator, leaving in place what a failed Arrow read did not give back (a refusal stays the error). */
    private static void closeQuietly(BufferAllocator alloc) {
        try {
            alloc.close();
        } catch (IllegalStateException leaked) {
            // the memory stays counted against the parent; the next check reports the file, not this
        }
    }

    /** The Spark schema of an Arrow schema; an unsupported column type is a {@link BadInputException}. */
    static StructType sparkSchema(Schema schema, String file) {
        List<StructField> fields = new ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Field f : schema.getFields()) {
            if (!names.add(f.getName())) {
                throw new BadInputException(file + ": two columns are named '" + f.getName() + "'");
            }
            fields.add(DataTypes.createStructField(f.getName(), sparkType(f, file), true));
        }
        return DataTypes.createStructType(fields);
    }

    private static DataType sparkType(Field f, String file) {
        ArrowType t = f.getType();
        if (f.getDictionary() != null) {
            throw new BadInputException(file + ": column '" + f.getName() + "' is dictionary-encoded, which is not "
                    + "supported; write its values (pyarrow: decode the dictionary first)");
        }
        if (t instanceof ArrowType.Int) {
            ArrowType.Int i = (ArrowType.Int) t;
            if (i.getIsSigned()) {
                switch (i.getBitWidth()) {
                    case 8: return DataTypes.ByteType;
                    case 16: return DataTypes.ShortType;
                    case 32: return DataTypes.IntegerType;
                    default: return DataTypes.LongType;
                }
            }
            if (i.getBitWidth() < 32) {
                return DataTypes.IntegerType;
            }
            if (i.getBitWidth() == 32) {
                return DataTypes.LongType;
            }
        } else if (t instanceof ArrowType.FloatingPoint) {
            FloatingPointPrecision p = ((ArrowType.FloatingPoint) t).getPrecision();
            if (p != FloatingPointPrecision.HALF) { // Arrow Java gives half floats as raw bits: not supported
                return p == FloatingPointPrecision.DOUBLE ? DataTypes.DoubleType : DataTypes.FloatType;
            }
        } else if (t instanceof ArrowType.Bool) {
            return DataTypes.BooleanType;
        } else if (t instanceof ArrowType.Utf8) {
            return DataTypes.StringType;
        } else if (t instanceof ArrowType.List || t instanceof ArrowType.FixedSizeList) {
            Field child = f.getChildren().get(0);
            DataType element = child.getType() instanceof ArrowType.List || child.getType() instanceof ArrowType.FixedSizeList
                    || child.getType() instanceof ArrowType.Utf8 || child.getType() instanceof ArrowType.Bool
                    ? null : sparkType(child, file);
            if (element != null) {
                return DataTypes.createArrayType(element, true);
            }
        }
        throw new BadInputException(file + ": column '" + f.getName() + "' has Arrow type " + t
                + (t instanceof ArrowType.List || t instanceof ArrowType.FixedSizeList ? "<" + f.getChildren().get(0).getType() + ">" : "")
                + ", which is not supported; use signed or unsigned integers (up to 32 bits unsigned), floats (32 or 64 "
                + "bits), booleans, "
                + "UTF-8 strings, or lists of numbers");
    }

    /** The rows of the files in {@code files}, batch by batch; every file must have the schema {@code expected}. */
    private static Iterator<Row> rows(HadoopConf conf, Iterator<String> files, StructType expected) {
        return rows(conf, files, expected, Root.ALLOCATOR);
    }

    private static Iterator<Row> rows(HadoopConf conf, Iterator<String> files, StructType expected,
            BufferAllocator parent) {
        BufferAllocator alloc = parent.newChildAllocator("read", 0, Long.MAX_VALUE);
        return new Iterator<Row>() {
            private Reader reader;
            private String file;
            private int row;
            private int batchRows;

            {
                TaskContext tc = TaskContext.get();
                if (tc != null) {
                    tc.addTaskCompletionListener((TaskCompletionListener) ctx -> closeAll());
                }
            }

            @Override
            public boolean hasNext() {
                try {
                    while (row >= batchRows) {
                        if (reader != null && reader.loadNextBatch()) {
                            row = 0;
                            batchRows = reader.root().getRowCount();
                            continue;
                        }
                        closeReader();
                        if (!files.hasNext()) {
                            closeAll();
                            return false;
                        }
                        file = files.next();
                        reader = new Reader(conf.get(), file, alloc);
                        StructType got = sparkSchema(reader.schema(), file);
                        if (!got.equals(expected)) {
                            throw new BadInputException(file + ": its columns " + got.simpleString()
                                    + " differ from those of the first file, " + expected.simpleString());
                        }
                        row = 0;
                        batchRows = 0;
                    }
                    return true;
                } catch (IOException e) {
                    closeAll(); // a refused file gives its memory back at once, not when the task ends
                    throw new BadInputException(file + ": cannot read the next Arrow record batch: " + oneLine(e), e);
                } catch (RuntimeException e) {
                    closeAll();
                    throw e;
                }
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                try {
                    List<FieldVector> vectors = reader.root().getFieldVectors();
                    Object[] values = new Object[vectors.size()];
                    for (int c = 0; c < values.length; c++) {
                        values[c] = value(vectors.get(c), row);
                    }
                    row++;
                    return RowFactory.create(values);
                } catch (IOException | RuntimeException e) {
                    closeAll();
                    throw new BadInputException(file + ": " + oneLine(e), e);
                }
            }

            private void closeReader() {
                if (reader != null) {
                    try {
                        reader.close();
                    } catch (IOException ignored) {
                        // a read-only file
                    }
                    reader = null;
                }
            }

            private void closeAll() {
                closeReader();
                closeQuietly(alloc);
            }
        };
    }

    /** One cell as the Java value Spark's Row wants; lists become primitive arrays. */
    private static Object value(FieldVector v, int i) {
        if (v.isNull(i)) {
            return null;
        }
        if (v instanceof ListVector) {
            ListVector l = (ListVector) v;
            int start = l.getElementStartIndex(i);
            return elements(l.getDataVector(), start, l.getElementEndIndex(i) - start);
        }
        if (v instanceof FixedSizeListVector) {
            FixedSizeListVector l = (FixedSizeListVector) v;
            int size = l.getListSize();
            return elements(l.getDataVector(), i * size, size);
        }
        if (v instanceof VarCharVector) {
            try {
                return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(((VarCharVector) v).get(i)))
                        .toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new IllegalArgumentException("column '" + v.getName() + "' holds a string that is not UTF-8 "
                        + "in row " + i + " of the batch");
            }
        }
        Object o = v.getObject(i);
        if (o instanceof Character) { // unsigned 16-bit
            return (int) (Character) o;
        }
        if (o instanceof Byte && v.getField().getType() instanceof ArrowType.Int
                && !((ArrowType.Int) v.getField().getType()).getIsSigned()) {
            return ((Byte) o) & 0xff;
        }
        if (o instanceof Short && !((ArrowType.Int) v.getField().getType()).getIsSigned()) {
            return ((Short) o) & 0xffff;
        }
        if (o instanceof Integer && !((ArrowType.Int) v.getField().getType()).getIsSigned()) {
            return ((Integer) o) & 0xffffffffL;
        }
        return o;
    }

    private static Object elements(FieldVector data, int start, int n) {
        if (data instanceof Float4Vector) {
            Float4Vector f = (Float4Vector) data;
            float[] out = new float[n];
            for (int j = 0; j < n; j++) {
                out[j] = f.isNull(start + j) ? Float.NaN : f.get(start + j);
            }
            return out;
        }
        if (data instanceof Float8Vector) {
            Float8Vector f = (Float8Vector) data;
            double[] out = new double[n];
            for (int j = 0; j < n; j++) {
                out[j] = f.isNull(start + j) ? Double.NaN : f.get(start + j);
            }
            return out;
        }
        Object[] out = new Object[n];
        for (int j = 0; j < n; j++) {
            out[j] = value(data, start + j);
        }
        return Arrays.asList(out);
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code df} as Arrow IPC files {@code dir/part-NNNNN.arrow}, one per partition (an
     * empty partition writes a file with the schema and no batches).
     *
     * @throws IllegalArgumentException for a column whose type cannot be written
     */
    public static void write(Dataset<Row> df, String dir, Configuration conf) {
        StructType schema = df.schema();
        Schema arrow = arrowSchema(schema);
        HadoopConf shipped = new HadoopConf(conf);
        String arrowJson = arrow.toJson();
        df.toJavaRDD().foreachPartition(rows -> writePartition(shipped, dir, Schema.fromJSON(arrowJson), schema, rows));
    }

    /** The Arrow schema for writing {@code schema}. */
    static Schema arrowSchema(StructType schema) {
        List<Field> fields = new ArrayList<>();
        for (StructField f : schema.fields()) {
            fields.add(arrowField(f.name(), f.dataType()));
        }
        return new Schema(fields);
    }

    private static Field arrowField(String name, DataType t) {
        ArrowType scalar = scalarType(t);
        if (scalar != null) {
            return new Field(name, FieldType.nullable(scalar), null);
        }
        DataType element = null;
        if (t.equals(SQLDataTypes.VectorType())) {
            element = DataTypes.DoubleType;
        } else if (t instanceof ArrayType && scalarType(((ArrayType) t).elementType()) != null
                && !(((ArrayType) t).elementType().equals(DataTypes.StringType))) {
            element = ((ArrayType) t).elementType();
        }
        if (element == null) {
            throw new IllegalArgumentException("column '" + name + "' has type " + t.simpleString()
                    + ", which cannot be written as Arrow IPC; drop it or write Parquet");
        }
        Field child = new Field("element", FieldType.nullable(scalarType(element)), null);
        return new Field(name, FieldType.nullable(ArrowType.List.INSTANCE), List.of(child));
    }

    private static ArrowType scalarType(DataType t) {
        if (t.equals(DataTypes.ByteType)) {
            return new ArrowType.Int(8, true);
        }
        if (t.equals(DataTypes.ShortType)) {
            return new ArrowType.Int(16, true);
        }
        if (t.equals(DataTypes.IntegerType)) {
            return new ArrowType.Int(32, true);
        }
        if (t.equals(DataTypes.LongType)) {
            return new ArrowType.Int(64, true);
        }
        if (t.equals(DataTypes.FloatType)) {
            return new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
        }
        if (t.equals(DataTypes.DoubleType)) {
            return new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
        }
        if (t.equals(DataTypes.BooleanType)) {
            return ArrowType.Bool.INSTANCE;
        }
        if (t.equals(DataTypes.StringType)) {
            return ArrowType.Utf8.INSTANCE;
        }
        return null;
    }

    private static void writePartition(HadoopConf conf, String dir, Schema schema, StructType sparkSchema,
            Iterator<Row> rows) throws IOException {
        TaskContext tc = TaskContext.get();
        int partition = tc == null ? 0 : tc.partitionId();
        Path target = new Path(dir, String.format(Locale.ROOT, "part-%05d.arrow", partition));
        Path tmp = new Path(dir, "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        FileSystem fs = target.getFileSystem(conf.get());
        try (BufferAllocator alloc = Root.ALLOCATOR.newChildAllocator("write", 0, Long.MAX_VALUE);
                VectorSchemaRoot root = VectorSchemaRoot.create(schema, alloc)) {
            try (FSDataOutputStream out = fs.create(tmp, false);
                    ArrowFileWriter writer = new ArrowFileWriter(root, null, Channels.newChannel(out))) {
                writer.start();
                int n = 0;
                root.allocateNew();
                while (rows.hasNext()) {
                    Row r = rows.next();
                    for (int c = 0; c < sparkSchema.size(); c++) {
                        set(root.getVector(c), n, r.isNullAt(c) ? null : r.get(c));
                    }
                    if (++n == BATCH_ROWS) {
                        root.setRowCount(n);
                        writer.writeBatch();
                        root.allocateNew();
                        n = 0;
                    }
                }
                if (n > 0) {
                    root.setRowCount(n);
                    writer.writeBatch();
                }
                writer.end();
            }
            if (fs.exists(target)) {
                fs.delete(target, false); // a complete file of an earlier attempt of this task
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("could not rename " + tmp + " to " + target);
            }
        } catch (IOException | RuntimeException e) {
            fs.delete(tmp, false);
            throw e;
        }
    }

    private static void set(FieldVector v, int i, Object value) {
        if (value == null) {
            if (v instanceof BaseFixedWidthVector) {
                ((BaseFixedWidthVector) v).setNull(i);
            } else if (v instanceof VarCharVector) {
                ((VarCharVector) v).setNull(i);
            } else {
                ((ListVector) v).setNull(i);
            }
            return;
        }
        if (v instanceof TinyIntVector) {
            ((TinyIntVector) v).setSafe(i, (Byte) value);
        } else if (v instanceof SmallIntVector) {
            ((SmallIntVector) v).setSafe(i, (Short) value);
        } else if (v instanceof IntVector) {
            ((IntVector) v).setSafe(i, (Integer) value);
        } else if (v instanceof BigIntVector) {
            ((BigIntVector) v).setSafe(i, (Long) value);
        } else if (v instanceof Float4Vector) {
            ((Float4Vector) v).setSafe(i, (Float) value);
        } else if (v instanceof Float8Vector) {
            ((Float8Vector) v).setSafe(i, (Double) value);
        } else if (v instanceof BitVector) {
            ((BitVector) v).setSafe(i, ((Boolean) value) ? 1 : 0);
        } else if (v instanceof VarCharVector) {
            ((VarCharVector) v).setSafe(i, value.toString().getBytes(StandardCharsets.UTF_8));
        } else {
            ListVector l = (ListVector) v;
            List<?> items = value instanceof Vector ? boxed(((Vector) value).toArray())
                    : scala.jdk.javaapi.CollectionConverters.asJava((scala.collection.Seq<?>) value);
            int start = l.startNewValue(i);
            FieldVector data = l.getDataVector();
            for (int j = 0; j < items.size(); j++) {
                set(data, start + j, items.get(j));
            }
            l.endValue(i, items.size());
        }
    }

    private static List<Double> boxed(double[] a) {
        List<Double> out = new ArrayList<>(a.length);
        for (double d : a) {
            out.add(d);
        }
        return out;
    }
}
