package io.sparkgrad.spark.ml

import java.nio.file.Files

import scala.util.Random

import io.sparkgrad.nn.{Linear, Module, Sequential, Tanh}
import io.sparkgrad.spark.data.InvalidRowException
import io.sparkgrad.spark.train.SerializableSupplier
import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.evaluation.{MulticlassClassificationEvaluator, RegressionEvaluator}
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.tuning.{CrossValidator, ParamGridBuilder}
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

/**
 * The connector used from Scala the way a notebook cell would: the session comes from
 * `SparkSession.builder().getOrCreate()` (its settings from the environment, here the build's
 * `spark.*` system properties, as a cluster's defaults would be), DataFrames from Scala
 * collections, the estimator in a Pipeline, then fit, transform, save and load.
 */
class NotebookSuite extends AnyFunSuite with BeforeAndAfterAll {
  private lazy val spark: SparkSession = SparkSession.builder().getOrCreate()

  override def afterAll(): Unit = spark.stop()

  /** Three Gaussian blobs in four columns x0..x3 with very different scales, label 0, 1, 2. */
  private def blobs(n: Int, seed: Long): DataFrame = {
    import spark.implicits._
    val r = new Random(seed)
    val rows = (0 until n).map { i =>
      val c = i % 3
      val x = (0 until 4).map(j => (r.nextGaussian() + (if (j % 3 == c) 3.0 else 0.0)) * math.pow(10, j) + j)
      (x(0), x(1), x(2), x(3), c.toDouble)
    }
    rows.toDF("x0", "x1", "x2", "x3", "label").repartition(2)
  }

  private def accuracy(df: DataFrame): Double =
    new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(df)

  test("a notebook builds a Pipeline with VectorAssembler, StandardScaler and NeuralNetClassifier") {
    val train = blobs(600, 1)
    val test = blobs(300, 2)
    val assembler = new VectorAssembler().setInputCols(Array("x0", "x1", "x2", "x3")).setOutputCol("raw")
    val scaler = new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true)
    val clf = new NeuralNetClassifier()
      .setHiddenLayers(32, 16)
      .setOptimizer("adam")
      .setLearningRate(0.01)
      .setBatchSize(32)
      .setMaxEpochs(4)
      .setSeed(42)
    val pipeline = new Pipeline().setStages(Array[PipelineStage](assembler, scaler, clf))

    val model = pipeline.fit(train)
    val predictions = model.transform(test)
    assert(predictions.columns.toSeq.takeRight(3) == Seq("rawPrediction", "probability", "prediction"))
    assert(accuracy(predictions) > 0.9)

    val nn = model.stages.last.asInstanceOf[NeuralNetClassificationModel]
    assert(nn.numClasses == 3 && nn.numFeatures == 4)
    val summary = nn.summary
    assert(summary.totalEpochs == 4)
    assert(summary.objectiveHistory.last < summary.objectiveHistory.head)
    info(summary.toString)

    val dir = Files.createTempDirectory("sparkgrad-notebook").resolve("fmnist-pipeline").toString
    model.write.overwrite().save(dir)
    val loaded = PipelineModel.load(dir)
    val probs = (df: DataFrame) => df.select("probability").collect().map(_.getAs[Vector](0).toArray.toSeq).toSeq
    assert(probs(loaded.transform(test)) == probs(predictions))
  }

  test("a Scala lambda is a network factory, and a regressor reports RMSE per epoch") {
    import spark.implicits._
    val r = new Random(3)
    val data = (0 until 600).map { _ =>
      val (a, b) = (r.nextGaussian(), r.nextGaussian())
      (a, b, math.sin(a) + 0.5 * b)
    }.toDF("a", "b", "label")
    val assembled = new VectorAssembler().setInputCols(Array("a", "b")).setOutputCol("features").transform(data)
    val net: SerializableSupplier[Module] = () => new Sequential(new Linear(2, 16), new Tanh(), new Linear(16, 1))
    val model = new NeuralNetRegressor()
      .setModuleFactory(net)
      .setLearningRate(0.02)
      .setBatchSize(64)
      .setMaxEpochs(6)
      .setValidationFraction(0.2)
      .fit(assembled)
    val rmse = new RegressionEvaluator().setMetricName("rmse").evaluate(model.transform(assembled))
    assert(rmse < 0.3, s"rmse $rmse")
    assert(model.summary.metricName == "rmse")
    assert(model.summary.validationMetricHistory.forall(v => !v.isNaN))
    // A lambda trains and transforms, but cannot be saved: the error says what to write instead.
    val e = intercept[IllegalArgumentException](model.write.save(Files.createTempDirectory("lambda").resolve("m").toString))
    assert(e.getMessage.contains("public class with a public no-argument constructor"))
  }

  test("CrossValidator tunes Sparkgrad params from Scala") {
    val train = new VectorAssembler().setInputCols(Array("x0", "x1", "x2", "x3")).setOutputCol("raw")
      .transform(blobs(300, 4))
    val scaled = new StandardScaler().setInputCol("raw").setOutputCol("features").fit(train).transform(train)
    val clf = new NeuralNetClassifier().setMaxEpochs(2).setBatchSize(32).setSeed(1)
    val grid = new ParamGridBuilder().addGrid(clf.hiddenLayers, Seq(Array(4), Array(32))).build()
    val cv = new CrossValidator().setEstimator(clf).setEstimatorParamMaps(grid).setNumFolds(2)
      .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy"))
    val best = cv.fit(scaled).bestModel.asInstanceOf[NeuralNetClassificationModel]
    assert(Set(4, 32).contains(best.getHiddenLayers.head))
    assert(clf.explainParams().contains("hiddenLayers"))
  }

  test("a bad row is reported by column, partition and row") {
    import spark.implicits._
    val df = Seq((Array(1.0, 2.0), 0.0), (Array(1.0, Double.NaN), 1.0), (Array(0.5, 0.5), 1.0))
      .toDF("features", "label").coalesce(1)
    val e = intercept[InvalidRowException](new NeuralNetClassifier().setMaxEpochs(1).fit(df))
    assert(e.column == "features" && e.row == 1 && e.partition == 0, e.getMessage)
    val skipped = new NeuralNetClassifier().setMaxEpochs(1).setHandleInvalid("skip").fit(df)
    assert(skipped.summary.skippedRows == 1)
  }
}
