package io.sparkgrad.spark.kryo;

import io.sparkgrad.spark.data.ArrowBlock;
import io.sparkgrad.spark.data.InvalidReason;
import io.sparkgrad.spark.train.GradientAggregator;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Everything the trainer sends through Spark's serializer round-trips under {@code registrationRequired=true}. */
class SparkgradKryoRegistratorTest {
    private static SerializerInstance kryo(boolean withRegistrator) {
        SparkConf conf = new SparkConf(false).set("spark.kryo.registrationRequired", "true");
        if (withRegistrator) {
            conf.set("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName());
        }
        return new KryoSerializer(conf).newInstance();
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(SerializerInstance s, T value) {
        ClassTag<T> tag = (ClassTag<T>) ClassTag$.MODULE$.apply(value.getClass());
        ByteBuffer bytes = s.serialize(value, tag);
        return s.deserialize(bytes, tag);
    }

    @Test
    void aggregatorsKeepTheirBlocks() {
        SerializerInstance s = kryo(true);
        GradientAggregator merged = GradientAggregator.leaf(0, new float[] {1, 2}, 0.5, 2, 2, 1, 7)
                .merge(GradientAggregator.leaf(2, null, 0, 0, 0, 0, 9));
        GradientAggregator back = roundTrip(s, merged);
        back.merge(roundTrip(s, GradientAggregator.leaf(1, new float[] {10, 20}, 1.5, 3, 3, 2, 8)));
        GradientAggregator.Sums sums = back.finish();
        assertArrayEquals(new float[] {11, 22}, sums.vector);
        assertEquals(2.0, sums.loss);
        assertEquals(5.0, sums.weight);
        assertEquals(5, sums.rows);
        assertEquals(3.0, sums.metric);
        assertEquals(9, sums.computeNanos);
        assertEquals(7 + 9 + 8, sums.totalComputeNanos);
        assertNull(roundTrip(s, new GradientAggregator()).finish().vector, "the zero value");
    }

    @Test
    void arrowBlocksAndArrays() {
        SerializerInstance s = kryo(true);
        ArrowBlock chunk = roundTrip(s, ArrowBlock.chunk(3, ArrowBlock.VALIDATION, 2, new byte[] {1, 2, 3}));
        assertEquals(3, chunk.partition());
        assertEquals(ArrowBlock.VALIDATION, chunk.kind());
        assertEquals(2, chunk.rows());
        assertArrayEquals(new byte[] {1, 2, 3}, chunk.ipc());
        long[] counts = new long[2 + InvalidReason.values().length];
        counts[0] = 10;
        counts[2 + InvalidReason.LABEL_OUT_OF_RANGE.ordinal()] = 4;
        ArrowBlock summary = roundTrip(s, ArrowBlock.summary(1, counts));
        assertEquals(10, summary.trainRows());
        assertEquals(4, summary.skipped(InvalidReason.LABEL_OUT_OF_RANGE));
        ArrowBlock[] collected = roundTrip(s, new ArrowBlock[] {summary});
        assertEquals(1, collected[0].partition());
        assertArrayEquals(new float[] {1.5f}, roundTrip(s, new float[] {1.5f}));
    }

    @Test
    void withoutTheRegistratorKryoRefusesOurClasses() {
        SerializerInstance s = kryo(false);
        assertThrows(RuntimeException.class, () -> roundTrip(s, GradientAggregator.leaf(0, new float[] {1}, 0, 1, 1, 0, 0)));
    }
}
