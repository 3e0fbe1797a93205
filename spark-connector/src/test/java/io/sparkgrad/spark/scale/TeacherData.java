package io.sparkgrad.spark.scale;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.immutable.ArraySeq;

import java.io.Serializable;
import java.util.Iterator;
import java.util.SplittableRandom;

/**
 * Seeded synthetic classification data of any size: features are independent standard normals,
 * and the label is the class a fixed random <em>teacher</em> network
 * ({@code features → hidden (tanh) → classes}, weights drawn from the seed) scores highest. Every row
 * is a pure function of the seed and its id, so the data set is the same whatever the partitioning
 * or the machine, and a student network of the teacher's shape can learn it exactly (the loss has
 * somewhere to go, unlike random labels).
 *
 * <p>Schema: {@code features: array<float>, label: double}.
 */
public final class TeacherData implements Serializable {
    private static final long serialVersionUID = 1L;

    final int features;
    final int hidden;
    final int classes;
    final long seed;
    private final float[] w1;
    private final float[] b1;
    private final float[] w2;
    private final float[] b2;

    public TeacherData(int features, int hidden, int classes, long seed) {
        this.features = features;
        this.hidden = hidden;
        this.classes = classes;
        this.seed = seed;
        SplittableRandom r = new SplittableRandom(seed);
        // Scaled so the hidden units use the range of tanh and every class wins somewhere.
        w1 = gaussians(r, hidden * features, 1.5 / Math.sqrt(features));
        b1 = gaussians(r, hidden, 0.5);
        w2 = gaussians(r, classes * hidden, 1 / Math.sqrt(hidden));
        b2 = gaussians(r, classes, 0.1);
    }

    private static float[] gaussians(SplittableRandom r, int n, double scale) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (r.nextGaussian() * scale);
        }
        return out;
    }

    public static StructType schema() {
        return new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("label", DataTypes.DoubleType, false);
    }

    /** Row {@code id}'s features. */
    public float[] features(long id) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ id * 0xC2B2AE3D27D4EB4FL);
        float[] x = new float[features];
        for (int j = 0; j < features; j++) {
            x[j] = (float) r.nextGaussian();
        }
        return x;
    }

    /** The teacher's class for {@code x}. */
    public int label(float[] x) {
        float[] h = new float[hidden];
        for (int i = 0; i < hidden; i++) {
            double s = b1[i];
            for (int j = 0; j < features; j++) {
                s += w1[i * features + j] * x[j];
            }
            h[i] = (float) Math.tanh(s);
        }
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            double s = b2[c];
            for (int i = 0; i < hidden; i++) {
                s += w2[c * hidden + i] * h[i];
            }
            if (s > bestScore) {
                bestScore = s;
                best = c;
            }
        }
        return best;
    }

    /** Rows {@code [0, rows)} in {@code partitions} partitions of consecutive ids, computed by Spark. */
    public Dataset<Row> frame(SparkSession spark, long rows, int partitions) {
        TeacherData self = this;
        return spark.range(0, rows, 1, partitions).mapPartitions((MapPartitionsFunction<Long, Row>) ids ->
                new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return ids.hasNext();
                    }

                    @Override
                    public Row next() {
                        float[] x = self.features(ids.next());
                        // A Scala Seq over the array, as Spark's own rows hold arrays (no copy).
                        return RowFactory.create(ArraySeq.unsafeWrapArray(x), (double) self.label(x));
                    }
                }, Encoders.row(schema()));
    }
}
