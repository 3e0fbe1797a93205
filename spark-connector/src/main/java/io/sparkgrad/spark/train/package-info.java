/**
 * Data-parallel training of Sparkgrad modules on Spark:
 * {@link io.sparkgrad.spark.train.TrainerConfig} says what to train and how,
 * {@link io.sparkgrad.spark.train.DistributedTrainer#fit} trains it on a {@code Dataset<Row>},
 * {@link io.sparkgrad.spark.train.TrainingResult} holds the model and its history.
 *
 * <h2>Quick start</h2>
 * <pre>{@code
 * SparkSession spark = SparkSession.builder()
 *     .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
 *     .config("spark.kryo.registrator", "io.sparkgrad.spark.kryo.SparkgradKryoRegistrator")
 *     .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")      // = spark.task.cpus
 *     .getOrCreate();
 * TrainerConfig cfg = TrainerConfig.builder()
 *     .model(() -> new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10)))
 *     .numClasses(10)
 *     .optimizer(OptimizerSpec.sgd(0.1).withMomentum(0.9)).lrSchedule(LrSchedule.COSINE)
 *     .batchSize(128).maxEpochs(5).seed(1)
 *     .validationFraction(0.1).earlyStoppingPatience(2)
 *     .checkpointDir("hdfs:///user/me/run-1")
 *     .build();
 * TrainingResult r = DistributedTrainer.fit(df, cfg);      // df: features (vector) + label columns
 * Module model = r.model();                                // trained, in eval mode
 * }</pre>
 *
 * <h2>The pieces</h2>
 * <ul>
 *   <li>Data: {@link io.sparkgrad.spark.data.ConvertedData} converts the rows once to cached Arrow
 *       chunks; steps read decoded arrays, never rows.</li>
 *   <li>A step: {@code StepTask} on each partition (forward and backward on a pooled replica,
 *       accumulating into its leaves), {@link io.sparkgrad.spark.train.GradientAggregator} summed by
 *       {@code treeAggregate} in an order-independent way, {@link io.sparkgrad.spark.train.TreePlan}
 *       choosing the tree and checking result sizes against the driver's limits before the first
 *       step, the optimizer on the driver.</li>
 *   <li>Local steps (K &gt; 1): replicas train K mini-batches each, the driver's outer optimizer
 *       applies their mean parameter change; {@link io.sparkgrad.spark.train.DistributedTrainer}
 *       explains how this converges differently. {@code localSteps = 0} (the default) picks K so
 *       that Spark's overhead stays near 20% or less ({@code LocalStepsPolicy}); set
 *       {@code localSteps(1)} for exact synchronous SGD, equal to single-process training.</li>
 *   <li>Checkpoints: safetensors files written atomically to any Hadoop file system; a run pointed at
 *       the same directory resumes bit-identically.</li>
 * </ul>
 *
 * <h2>Settings that matter on a cluster</h2>
 * <ul>
 *   <li>{@code spark.task.cpus} sets the engine's threads per task (or
 *       {@link io.sparkgrad.spark.train.TrainerConfig#threadsPerTask()}); native OpenBLAS reads
 *       {@code OPENBLAS_NUM_THREADS} once at load, so set
 *       {@code spark.executorEnv.OPENBLAS_NUM_THREADS} to the same number (a warning says when it
 *       is missing).</li>
 *   <li>With Kryo, register {@code SparkgradKryoRegistrator}; with
 *       {@code spark.kryo.registrationRequired=true} the trainer refuses to start without it.</li>
 *   <li>A gradient is 4 bytes per parameter: over {@code spark.task.maxDirectResultSize} (1 MiB,
 *       about 260k parameters) each result takes an extra block-manager fetch; over
 *       {@code spark.kryoserializer.buffer.max} or, times the partition count,
 *       {@code spark.driver.maxResultSize}, the trainer stops before the first step and names the
 *       setting to raise.</li>
 * </ul>
 */
package io.sparkgrad.spark.train;
