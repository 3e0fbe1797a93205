package io.sparkgrad.spark.ml;

import io.sparkgrad.Sparkgrad;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.data.Batch;
import io.sparkgrad.data.DataLoader;
import io.sparkgrad.data.IdxReader;
import io.sparkgrad.data.TensorDataset;
import io.sparkgrad.functional.F;
import io.sparkgrad.nn.Module;
import io.sparkgrad.optim.Optimizer;
import io.sparkgrad.spark.kryo.SparkgradKryoRegistrator;
import io.sparkgrad.spark.train.EpochStats;
import io.sparkgrad.spark.train.OptimizerSpec;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Fashion-MNIST comparison that {@code scripts/bench-vs-mllib.sh} runs, in one JVM on
 * {@code local[2]}: Spark MLlib's {@code MultilayerPerceptronClassifier} (784-128-10, l-bfgs, 50
 * iterations) and Sparkgrad's {@link NeuralNetClassifier} (784-256-128-10 ReLU) fit the same cached
 * DataFrame and are scored on the same test rows; then the same network, optimizer and batch size
 * train in a single process on the engine alone (2 threads), timed to the accuracy Sparkgrad
 * reached on Spark. With {@code mode=spark} (the default) the last two lines are
 * {@code sparkgrad test accuracy: 0.xxxx} and {@code fit time ratio sparkgrad/mllib: x.xx}.
 * {@code mode=engine target=ACCURACY sparkSeconds=S} runs the single-process part alone: the script
 * starts it as a second JVM, so the engine gets both cores for its BLAS ({@code OPENBLAS_NUM_THREADS=2})
 * while Spark's two tasks get one each.
 *
 * <p>Arguments are {@code key=value}: {@code data} (the IDX folder), {@code epochs}, {@code batch},
 * {@code lr}, {@code optimizer}, {@code localSteps}, {@code outer} (averaging|nesterov),
 * {@code hidden} (e.g. {@code 256,128}), {@code schedule} (constant|cosine), {@code seed}, {@code mllib}
 * ({@code true}/{@code false}), {@code mllibIter}, {@code monitor} (validate on the test rows after
 * each epoch, for tuning: it adds to the fit time), {@code mode}, {@code target}, {@code sparkSeconds}.
 */
public final class BenchVsMllib {
    private BenchVsMllib() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("arguments are key=value, got " + arg);
            }
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        Path data = Path.of(a.getOrDefault("data", "/usr/share/datasets/fashion-mnist"));
        int epochs = Integer.parseInt(a.getOrDefault("epochs", "5"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "128"));
        double lr = Double.parseDouble(a.getOrDefault("lr", "2e-3"));
        String optimizer = a.getOrDefault("optimizer", "adam");
        int localSteps = Integer.parseInt(a.getOrDefault("localSteps", "0"));
        String outer = a.getOrDefault("outer", "averaging");
        int[] hidden = Arrays.stream(a.getOrDefault("hidden", "256,128").split(",")).mapToInt(Integer::parseInt).toArray();
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        boolean runMllib = Boolean.parseBoolean(a.getOrDefault("mllib", "true"));
        String mode = a.getOrDefault("mode", "spark");
        String schedule = a.getOrDefault("schedule", "cosine");
        boolean monitor = Boolean.parseBoolean(a.getOrDefault("monitor", "false"));
        int mllibIter = Integer.parseInt(a.getOrDefault("mllibIter", "50"));

        for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz")) {
            if (!Files.isRegularFile(data.resolve(f))) {
                throw new IllegalStateException("Fashion-MNIST file " + data.resolve(f) + " is missing: install the "
                        + "Debian package dataset-fashion-mnist (scripts/bench-vs-mllib.sh does) or pass data=DIR");
            }
        }
        long t0 = System.nanoTime();
        Tensor trainX = IdxReader.readImages(data.resolve("train-images-idx3-ubyte.gz")).reshape(-1, 784);
        Tensor trainY = IdxReader.readLabels(data.resolve("train-labels-idx1-ubyte.gz"));
        Tensor testX = IdxReader.readImages(data.resolve("t10k-images-idx3-ubyte.gz")).reshape(-1, 784);
        Tensor testY = IdxReader.readLabels(data.resolve("t10k-labels-idx1-ubyte.gz"));
        if (mode.equals("engine")) {
            engineAlone(trainX, trainY, testX, testY, hidden, optimizer, lr, schedule, epochs, batch, seed,
                    Double.parseDouble(a.get("target")), Double.parseDouble(a.get("sparkSeconds")));
            return;
        }

        SparkSession spark = SparkSession.builder()
                .master("local[2]")
                .appName("sparkgrad-bench-vs-mllib")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .config("spark.kryo.registrator", SparkgradKryoRegistrator.class.getName())
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        Path parquet = Files.createTempDirectory("bench-vs-mllib");
        Dataset<Row> train = onFiles(spark, frame(spark, trainX, trainY), parquet.resolve("train")).cache();
        Dataset<Row> test = onFiles(spark, frame(spark, testX, testY), parquet.resolve("test")).cache();
        long trainRows = train.count();
        long testRows = test.count();
        System.out.printf(Locale.ROOT, "data: %d training rows, %d test rows, 784 features, %d partitions, from Parquet "
                + "(written, read and cached in %.1f s)%n", trainRows, testRows, train.rdd().getNumPartitions(),
                secondsSince(t0));
        System.out.printf(Locale.ROOT, "machine: %d cores, Java %s, BLAS %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getSimpleName());

        MulticlassClassificationEvaluator accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy");
        // Warm both code paths up on a slice, so neither pays the JIT's first compile in its timing.
        Dataset<Row> slice = train.limit(2000).cache();
        slice.count();
        new MultilayerPerceptronClassifier().setLayers(new int[] {784, 32, 10}).setMaxIter(3).setSeed(seed).fit(slice);
        sparkgrad(hidden, optimizer, lr, batch, 1, localSteps, outer, seed).fit(slice);
        slice.unpersist();

        double mllibSeconds = Double.NaN;
        double mllibAccuracy = Double.NaN;
        if (runMllib) {
            MultilayerPerceptronClassifier mlp = new MultilayerPerceptronClassifier()
                    .setLayers(new int[] {784, 128, 10}).setSolver("l-bfgs").setMaxIter(mllibIter).setSeed(seed);
            long start = System.nanoTime();
            MultilayerPerceptronClassificationModel m = mlp.fit(train);
            mllibSeconds = secondsSince(start);
            mllibAccuracy = accuracy.evaluate(m.transform(test));
            System.out.printf(Locale.ROOT, "mllib MultilayerPerceptronClassifier 784-128-10 l-bfgs %d iterations: "
                    + "fit %.2f s, test accuracy %.4f%n", mllibIter, mllibSeconds, mllibAccuracy);
        }

        NeuralNetClassifier clf = sparkgrad(hidden, optimizer, lr, batch, epochs, localSteps, outer, seed)
                .setLrSchedule(schedule);
        if (monitor) {
            clf.setValidationData(test); // per-epoch test accuracy in the history, for tuning (adds to fit time)
        }
        long start = System.nanoTime();
        NeuralNetClassificationModel model = clf.fit(train);
        double sgSeconds = secondsSince(start);
        double sgAccuracy = accuracy.evaluate(model.transform(test));
        System.out.printf(Locale.ROOT, "sparkgrad NeuralNetClassifier 784-%s-10 relu %s lr=%s schedule=%s batch=%d "
                        + "epochs=%d localSteps=%s outer=%s: fit %.2f s, test accuracy %.4f%n",
                joined(hidden), optimizer, lr, schedule, batch, epochs,
                localSteps == 0 ? "auto (K=" + model.summary().localSteps() + ")" : Integer.toString(localSteps), outer,
                sgSeconds, sgAccuracy);
        for (EpochStats s : model.summary().history()) {
            System.out.println("  " + s.describe());
        }
        System.out.printf(Locale.ROOT, "  steps %d, Spark overhead share (mean over epochs) %.1f%%%n",
                model.summary().totalSteps(),
                100 * Arrays.stream(model.summary().sparkOverheadShare()).average().orElse(Double.NaN));
        spark.stop();
        deleteRecursively(parquet);
        System.out.printf(Locale.ROOT, "sparkgrad test accuracy: %.4f%n", sgAccuracy);
        System.out.printf(Locale.ROOT, "fit time ratio sparkgrad/mllib: %.2f%n", sgSeconds / mllibSeconds);
    }

    private static NeuralNetClassifier sparkgrad(int[] hidden, String optimizer, double lr, int batch, int epochs,
            int localSteps, String outer, long seed) {
        return new NeuralNetClassifier().setHiddenLayers(hidden).setActivation("relu").setOptimizer(optimizer)
                .setLearningRate(lr).setBatchSize(batch).setMaxEpochs(epochs).setLocalSteps(localSteps)
                .setOuterOptimizer(outer).setSeed(seed);
    }

    /**
     * The same network (same initial weights), optimizer and batch size trained by the engine alone
     * with 2 threads; prints the test accuracy after each epoch and the time to reach {@code target}.
     */
    private static void engineAlone(Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, int[] hidden,
            String optimizer, double lr, String schedule, int epochs, int batch, long seed, double target,
            double sparkSeconds) {
        boolean cosine = schedule.equals("cosine");
        int maxEpochs = cosine ? epochs : 3 * epochs; // a cosine schedule ends at lr 0 after `epochs`
        Sparkgrad.setThreads(2);
        // Warm-up, as the Spark side had: 50 steps on a throwaway network, so the JIT has compiled the loop.
        Module warm = Mlp.of(784, hidden, 10, "relu", seed + 1).get();
        Optimizer warmOpt = OptimizerSpec.of(optimizer, lr).create(warm.parameters());
        DataLoader warmLoader = DataLoader.builder(new TensorDataset(trainX, trainY)).batchSize(batch).build();
        int warmSteps = 0;
        for (Batch b : warmLoader.epoch(0)) {
            if (warmSteps++ == 50) {
                break;
            }
            warmOpt.zeroGrad();
            F.crossEntropy(warm.apply(b.get(0)), b.get(1)).backward();
            warmOpt.step();
        }
        Module net = Mlp.of(784, hidden, 10, "relu", seed).get();
        Optimizer opt = OptimizerSpec.of(optimizer, lr).create(net.parameters());
        DataLoader loader = DataLoader.builder(new TensorDataset(trainX, trainY)).batchSize(batch).shuffle(seed).build();
        double trainingSeconds = 0;
        double reachedAt = Double.NaN;
        int reachedEpoch = 0;
        List<String> log = new ArrayList<>();
        for (int epoch = 0; epoch < maxEpochs && Double.isNaN(reachedAt); epoch++) {
            long start = System.nanoTime();
            net.train();
            double epochLr = cosine ? lr * (1 + Math.cos(Math.PI * epoch / epochs)) / 2 : lr;
            opt.paramGroups().forEach(g -> g.setLr(epochLr));
            for (Batch b : loader.epoch(epoch)) {
                Tensor loss = F.crossEntropy(net.apply(b.get(0)), b.get(1));
                opt.zeroGrad();
                loss.backward();
                opt.step();
            }
            trainingSeconds += secondsSince(start);
            double acc = engineAccuracy(net, testX, testY);
            log.add(String.format(Locale.ROOT, "epoch %d: test accuracy %.4f at %.2f s", epoch + 1, acc, trainingSeconds));
            if (acc >= target) {
                reachedAt = trainingSeconds;
                reachedEpoch = epoch + 1;
            }
        }
        System.out.printf(Locale.ROOT, "engine alone (single process, %d engine threads, OPENBLAS_NUM_THREADS=%s, same "
                + "network, initial weights, optimizer, schedule and batch size, no local steps):%n", Sparkgrad.threads(),
                System.getenv("OPENBLAS_NUM_THREADS"));
        log.forEach(l -> System.out.println("  " + l));
        if (Double.isNaN(reachedAt)) {
            System.out.printf(Locale.ROOT, "engine alone did not reach %.4f in %d epochs (%.2f s)%n", target, maxEpochs,
                    trainingSeconds);
        } else {
            System.out.printf(Locale.ROOT, "engine alone reached %.4f after %d epochs in %.2f s; sparkgrad on local[2] "
                            + "took %.2f s: ratio sparkgrad/engine %.2f%n", target, reachedEpoch, reachedAt, sparkSeconds,
                    sparkSeconds / reachedAt);
        }
    }

    private static double engineAccuracy(Module net, Tensor x, Tensor y) {
        net.eval();
        try (GradMode.Guard g = GradMode.noGrad()) {
            long[] predicted = net.apply(x).argmax(1, false).toLongArray();
            long[] labels = y.toLongArray();
            int right = 0;
            for (int i = 0; i < labels.length; i++) {
                right += predicted[i] == labels[i] ? 1 : 0;
            }
            return right / (double) labels.length;
        }
    }

    /** {@code features: vector, label: double} rows in 2 partitions of consecutive rows. */
    /**
     * The rows written as Parquet (two files) and read back, as a user's data would be: a DataFrame
     * made from a local collection keeps its rows in its partitions, and Spark ships a partition
     * with every task that reads it, even from a cached child, so each iteration of either
     * trainer would serialize the whole training set again (about 190 MB per task here).
     */
    private static Dataset<Row> onFiles(SparkSession spark, Dataset<Row> rows, Path dir) {
        rows.write().parquet(dir.toString());
        return spark.read().parquet(dir.toString());
    }

    private static Dataset<Row> frame(SparkSession spark, Tensor x, Tensor y) {
        float[] pixels = x.contiguousData().toFloatArray();
        long[] labels = y.toLongArray();
        int n = labels.length;
        int d = pixels.length / n;
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) {
                v[j] = pixels[i * d + j];
            }
            rows.add(RowFactory.create(Vectors.dense(v), (double) labels[i]));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return spark.createDataFrame(jsc.parallelize(rows, 2), SparkTests.vectorSchema());
    }

    private static void deleteRecursively(Path dir) throws java.io.IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    private static String joined(int[] v) {
        return String.join("-", Arrays.stream(v).mapToObj(Integer::toString).toArray(String[]::new));
    }

    private static double secondsSince(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
