package io.sparkgrad.spark.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.train.GradientAggregator;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StorageType;
import org.apache.hadoop.fs.permission.FsAction;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.serializer.KryoRegistrator;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Collections;

/**
 * Registers with Kryo every class the trainer sends through Spark's serializer (task results,
 * shuffled partial sums, cached data blocks, broadcast parameters), and the Spark SQL schema classes
 * that reading and writing a training set sends, so a training job (write Parquet, read it back
 * with schema inference, collect rows, fit) works with {@code spark.kryo.registrationRequired=true}
 * and sends small class ids instead of names.
 *
 * <pre>{@code
 * SparkSession.builder()
 *     .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
 *     .config("spark.kryo.registrator", "io.sparkgrad.spark.kryo.SparkgradKryoRegistrator")
 *     .config("spark.kryo.registrationRequired", "true")
 * }</pre>
 *
 * The aggregator writes its own compact form ({@code KryoSerializable}); {@link ArrowBlock} has the
 * serializer below. Primitive arrays and some schema classes are registered by Spark itself and
 * again here, harmlessly, so the list is complete on its own.
 *
 * <p>Listing a partitioned directory with more leaf folders than
 * {@code spark.sql.sources.parallelPartitionDiscovery.threshold} (32) runs a job that returns
 * Hadoop file statuses: the classes of the local file system's, and those every file system's
 * statuses are built of, are registered. A file system whose statuses are its own subclasses
 * (HDFS's {@code HdfsLocatedFileStatus}, say) needs those registered too, by the application.
 */
public final class SparkgradKryoRegistrator implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        // The trainer's own task results, shuffled partial sums and cached blocks.
        register(kryo, GradientAggregator.class, GradientAggregator[].class);
        kryo.register(ArrowBlock.class, new ArrowBlockSerializer());
        kryo.register(ArrowBlock[].class);
        // Broadcast parameters, the blocks' bytes and counts.
        register(kryo, float[].class, long[].class, byte[].class);

        // Schemas: Parquet schema inference runs a job whose task returns the file's StructType,
        // with each column's type and metadata (VectorAssembler's ml_attr holds a Metadata[]).
        // Spark registers StructType, StructField, Metadata and some atomic types itself, but not
        // ArrayType, the other numeric types or the vector type, which a training set's features use.
        register(kryo, StructType.class, StructField.class, StructField[].class, Metadata.class, Metadata[].class,
                ArrayType.class, DecimalType.class);
        // The numeric types (the trainer's features and labels) are Scala case objects, of classes
        // FloatType$ and so on: taken from their single instances, which the compiler checks,
        // rather than by name with Class.forName.
        register(kryo, DataTypes.ByteType.getClass(), DataTypes.ShortType.getClass(), DataTypes.IntegerType.getClass(),
                DataTypes.LongType.getClass(), DataTypes.FloatType.getClass(), DataTypes.DoubleType.getClass());
        // Spark ML's vector column type: VectorUDT is private[spark], so taken from its instance too.
        kryo.register(SQLDataTypes.VectorType().getClass());

        // Listing a partitioned data set with more leaf folders than
        // spark.sql.sources.parallelPartitionDiscovery.threshold (32) runs a job whose tasks get the
        // folders' paths and send back their files' statuses, with block locations; a status with
        // no attributes holds Collections.emptySet(), of a private class.
        register(kryo, Path.class, Path[].class, FileStatus.class, FileStatus[].class, LocatedFileStatus.class,
                BlockLocation.class, BlockLocation[].class, StorageType.class, StorageType[].class, FsPermission.class,
                FsAction.class, Collections.emptySet().getClass());
    }

    /** Registers each class in order (the order fixes Kryo's ids, the same in every JVM). */
    private static void register(Kryo kryo, Class<?>... classes) {
        for (Class<?> c : classes) {
            kryo.register(c);
        }
    }

    /** An {@link ArrowBlock} as its fields; the IPC bytes are written as one array. */
    static final class ArrowBlockSerializer extends Serializer<ArrowBlock> {
        ArrowBlockSerializer() {
            super(false, true);
        }

        @Override
        public void write(Kryo kryo, Output out, ArrowBlock b) {
            out.writeInt(b.partition(), true);
            out.writeInt(b.kind(), true);
            out.writeInt(b.rows(), true);
            byte[] ipc = b.ipc();
            out.writeInt(ipc == null ? -1 : ipc.length);
            if (ipc != null) {
                out.writeBytes(ipc);
            }
            long[] counts = b.counts();
            out.writeInt(counts == null ? -1 : counts.length);
            if (counts != null) {
                out.writeLongs(counts);
            }
        }

        @Override
        public ArrowBlock read(Kryo kryo, Input in, Class<ArrowBlock> type) {
            int partition = in.readInt(true);
            int kind = in.readInt(true);
            int rows = in.readInt(true);
            int len = in.readInt();
            byte[] ipc = len < 0 ? null : in.readBytes(len);
            int n = in.readInt();
            long[] counts = n < 0 ? null : in.readLongs(n);
            return ArrowBlock.of(partition, kind, rows, ipc, counts);
        }
    }
}
