package io.sparkgrad.spark.train;

import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.examples.FashionMnist;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures the trainer on Fashion-MNIST with the MLP 784-256-128-10 on {@code local[2]}: for each
 * number of local steps K, the time per synchronisation, the share of it that is Spark's overhead,
 * rows/s and the test accuracy after each epoch; and, first, the single-process engine on the same
 * data for comparison. Not a test: run it by hand.
 *
 * <pre>
 * java [Spark's JVM options] -cp ... io.sparkgrad.spark.train.TrainerBench
 *     [--epochs 3] [--k 1,16,64] [--batch 128] [--lr 0.1] [--partitions 2] [--limit 60000] [--schedule cosine]
 *     [--single true]
 * </pre>
 * K = 0 is the trainer's automatic choice. The lines per epoch are the trainer's own
 * ({@link EpochStats#describe()}); each K ends with a summary line: fit time, synchronisations and
 * their mean time, Spark's overhead share and the test accuracy.
 * <pre>
 * </pre>
 */
public final class TrainerBench {
    private TrainerBench() {
    }

    public static void main(String[] args) throws Exception {
        int epochs = 3;
        String ks = "1,16,64";
        int batch = 128;
        double lr = 0.1;
        int partitions = 2;
        int limit = 60000;
        LrSchedule schedule = LrSchedule.COSINE;
        boolean single = true;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--epochs": epochs = Integer.parseInt(args[i + 1]); break;
                case "--k": ks = args[i + 1]; break;
                case "--batch": batch = Integer.parseInt(args[i + 1]); break;
                case "--lr": lr = Double.parseDouble(args[i + 1]); break;
                case "--partitions": partitions = Integer.parseInt(args[i + 1]); break;
                case "--limit": limit = Integer.parseInt(args[i + 1]); break;
                case "--schedule": schedule = LrSchedule.valueOf(args[i + 1].toUpperCase(Locale.ROOT)); break;
                case "--single": single = Boolean.parseBoolean(args[i + 1]); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        FashionMnist.Split train = FashionMnist.load(FashionMnist.DEFAULT_DATA, "train", limit);
        FashionMnist.Split test = FashionMnist.load(FashionMnist.DEFAULT_DATA, "t10k", 10000);
        if (single) {
            singleProcess(train, test, epochs, batch, lr);
        }
        SparkSession spark = SparkSession.builder().master("local[2]").appName("TrainerBench")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.kryo.registrationRequired", "true")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        try {
            Dataset<Row> df = frame(spark, train, partitions).cache();
            System.out.printf(Locale.ROOT, "spark local[2]: %d rows in %d partitions%n", df.count(),
                    df.rdd().getNumPartitions());
            for (String k : ks.split(",")) {
                int localSteps = Integer.parseInt(k.trim());
                TrainerConfig cfg = TrainerConfig.builder()
                        .model(() -> FashionMnist.mlp(new Generator(1)))
                        .numClasses(10).inputShape(1, 28, 28)
                        .optimizer(OptimizerSpec.sgd(lr).withMomentum(0.9)).lrSchedule(schedule)
                        .batchSize(batch).maxEpochs(epochs).seed(1).localSteps(localSteps).build();
                long t0 = System.nanoTime();
                List<EpochStats> seen = new ArrayList<>();
                TrainingResult r = new DistributedTrainer(cfg).onEpoch(seen::add).fit(df);
                double fit = (System.nanoTime() - t0) / 1e9;
                String label = localSteps == 0 ? "auto (K=" + r.localSteps() + ")" : Integer.toString(localSteps);
                for (EpochStats s : r.history()) {
                    System.out.printf(Locale.ROOT, "K=%s %s%n", label, s.describe());
                }
                double trainSeconds = 0;
                double overheadWeighted = 0;
                for (EpochStats s : r.history()) {
                    double t = s.rows() / s.rowsPerSecond();
                    trainSeconds += t;
                    overheadWeighted += t * s.sparkOverheadShare();
                }
                System.out.printf(Locale.ROOT, "K=%s: fit %.1f s (training %.1f s), %d synchronisations, %.1f ms each, "
                        + "Spark overhead %.1f%%, test accuracy %.4f%n", label, fit, trainSeconds, r.steps(),
                        1000 * trainSeconds / r.steps(), 100 * overheadWeighted / trainSeconds,
                        FashionMnist.accuracy(r.model(), test));
            }
        } finally {
            spark.stop();
        }
    }

    private static void singleProcess(FashionMnist.Split train, FashionMnist.Split test, int epochs, int batch, double lr) {
        FashionMnist.Config c = FashionMnist.Config.parse("mlp", "--epochs", Integer.toString(epochs), "--batch",
                Integer.toString(batch), "--lr", Double.toString(lr), "--threads", "2", "--progress", "none");
        long t0 = System.nanoTime();
        FashionMnist.Result r = FashionMnist.train(c, train, test, System.out);
        System.out.printf(Locale.ROOT, "single process (engine, 2 threads): %.1f s, %s%n", (System.nanoTime() - t0) / 1e9,
                r);
    }

    private static Dataset<Row> frame(SparkSession spark, FashionMnist.Split s, int partitions) {
        Tensor x = s.images().reshape(s.images().size(0), 784).contiguous();
        float[] all = x.toFloatArray();
        long[] y = s.labels().toLongArray();
        List<Row> rows = new ArrayList<>(y.length);
        for (int i = 0; i < y.length; i++) {
            float[] f = new float[784];
            System.arraycopy(all, i * 784, f, 0, 784);
            rows.add(RowFactory.create(f, (double) y[i]));
        }
        StructType schema = new StructType().add("features", DataTypes.createArrayType(DataTypes.FloatType, false))
                .add("label", DataTypes.DoubleType);
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }
}
