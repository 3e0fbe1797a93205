package io.sparkgrad.spark.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.train.GradientAggregator;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Registers with Kryo every class the trainer sends through Spark's serializer (task results,
 * shuffled partial sums, cached data blocks, broadcast parameters), so training works with
 * {@code spark.kryo.registrationRequired=true} and sends small class ids instead of names.
 *
 * <pre>{@code
 * SparkSession.builder()
 *     .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
 *     .config("spark.kryo.registrator", "io.sparkgrad.spark.kryo.SparkgradKryoRegistrator")
 *     .config("spark.kryo.registrationRequired", "true")
 * }</pre>
 *
 * The aggregator writes its own compact form ({@code KryoSerializable}); {@link ArrowBlock} has the
 * serializer below. Primitive arrays are registered by Spark itself and again here, harmlessly, so
 * the list is complete on its own.
 */
public final class SparkgradKryoRegistrator implements KryoRegistrator {
    @Override
    public void registerClasses(Kryo kryo) {
        kryo.register(GradientAggregator.class);
        kryo.register(GradientAggregator[].class);
        kryo.register(ArrowBlock.class, new ArrowBlockSerializer());
        kryo.register(ArrowBlock[].class);
        kryo.register(float[].class);
        kryo.register(long[].class);
        kryo.register(byte[].class);
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
