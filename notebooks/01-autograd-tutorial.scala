// Databricks notebook source
// MAGIC %md
// MAGIC # Automatic differentiation with Sparkgrad
// MAGIC
// MAGIC PyTorch's tutorial *Automatic differentiation with `torch.autograd`*, redone in Scala with
// MAGIC Sparkgrad's engine: the same one-layer network, the same questions, the same answers — and, at the
// MAGIC end, the tutorial's *accumulate-then-zero* pattern spread over a Spark cluster, which is what
// MAGIC distributed training does.
// MAGIC
// MAGIC **Cluster set-up (Databricks):** attach the `sparkgrad-spark` jar (it brings the engine) as a cluster
// MAGIC library. Optionally add `--add-modules=jdk.incubator.vector` to `spark.driver.extraJavaOptions` and
// MAGIC `spark.executor.extraJavaOptions` for the engine's vectorized kernels; without it every cell still
// MAGIC runs, on scalar loops. Every deterministic result below is checked with `assert`, so a run that
// MAGIC finishes is a run that matched.

// COMMAND ----------

import io.sparkgrad.Tensor
import io.sparkgrad.autograd.{AccumulateGrad, GradMode, Node}
import io.sparkgrad.functional.F
import scala.jdk.CollectionConverters._
import scala.util.Using

// COMMAND ----------

// MAGIC %md
// MAGIC ## A one-layer network
// MAGIC
// MAGIC Input `x`, parameters `w` and `b`, and a binary cross-entropy loss against the expected output `y`.
// MAGIC `requiresGrad_()` marks the tensors we want gradients for (PyTorch's `requires_grad=True`); like
// MAGIC PyTorch's in-place methods, its name ends with an underscore. Tensors are float32 by default.

// COMMAND ----------

Tensor.manualSeed(0)
val x = Tensor.ones(5)                       // input tensor
val y = Tensor.zeros(3)                      // expected output
val w = Tensor.randn(5, 3).requiresGrad_()
val b = Tensor.randn(3).requiresGrad_()
val z = x.matmul(w).add(b)
val loss = F.binaryCrossEntropyWithLogits(z, y)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Tensors, functions and the computational graph
// MAGIC
// MAGIC Every operation on a tensor that requires a gradient records a node in a graph as it runs: the
// MAGIC node knows how to compute its result's gradient with respect to its inputs. A tensor's `gradFn()` is
// MAGIC the node that produced it; the names are PyTorch's.

// COMMAND ----------

println(s"Gradient function for z = ${z.gradFn}")
println(s"Gradient function for loss = ${loss.gradFn}")
assert(z.gradFn.name == "AddBackward0")
assert(loss.gradFn.name == "BinaryCrossEntropyWithLogitsBackward0")

// COMMAND ----------

// MAGIC %md
// MAGIC The graph can be walked from the loss back to the leaves: `nextFunctions()` are the nodes each
// MAGIC input's gradient goes to, and a leaf that requires a gradient ends in an `AccumulateGrad` node,
// MAGIC which adds into the leaf's `.grad`. The PyTorch page draws this graph as a picture; here it is as text.

// COMMAND ----------

def printGraph(node: Node, depth: Int = 0): Unit = {
  val leaf = node match {
    case a: AccumulateGrad => s"  <- leaf of shape ${a.variable.shape.mkString("[", ", ", "]")}"
    case _ => ""
  }
  println("  " * depth + node.name + leaf)
  node.nextFunctions.asScala.filter(_ != null).foreach(printGraph(_, depth + 1))
}

def leavesOf(node: Node): List[Tensor] = node match {
  case a: AccumulateGrad => List(a.variable)
  case _ => node.nextFunctions.asScala.toList.filter(_ != null).flatMap(leavesOf)
}

printGraph(loss.gradFn)
val leaves = leavesOf(loss.gradFn)
assert(leaves.size == 2 && leaves.exists(_ eq w) && leaves.exists(_ eq b), "the graph ends at w and b")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Computing gradients
// MAGIC
// MAGIC `loss.backward()` computes the derivatives of the loss with respect to every leaf that requires a
// MAGIC gradient and stores them in the leaves' `grad()`.

// COMMAND ----------

loss.backward()
println(w.grad)
println(b.grad)

// COMMAND ----------

// MAGIC %md
// MAGIC The numbers depend on the random `w` and `b`, but not their relations, which we can check by hand:
// MAGIC the loss is the mean over 3 outputs of the binary cross-entropy, so `dloss/dz = (sigmoid(z) - y) / 3`;
// MAGIC `b` is added to `z`, so `b.grad` is exactly that; and since every `x_i` is 1, each row of `w.grad`
// MAGIC (`x_i · dloss/dz`) equals `b.grad`.

// COMMAND ----------

val dLossDz = z.detach().sigmoid().sub(y).div(3)
assert(b.grad.allClose(dLossDz, 1e-6, 1e-7), s"b.grad = ${b.grad}, expected $dLossDz")
assert(w.grad.shape.toSeq == Seq(5, 3))
for (i <- 0 until 5; j <- 0 until 3) {
  assert(math.abs(w.grad.get(i, j) - b.grad.get(j)) < 1e-7, s"w.grad[$i, $j] differs from b.grad[$j]")
}

// COMMAND ----------

// MAGIC %md
// MAGIC Two notes from the tutorial hold here too:
// MAGIC
// MAGIC * Only leaves that require a gradient get a `grad()`; intermediate tensors such as `z` do not
// MAGIC   (unless you ask with `retainGrad()` before the backward pass).
// MAGIC * A graph can be traversed backward once: `backward()` frees the values it saved for the pass. To
// MAGIC   call it again on the same graph, pass `retainGraph = true` to the first call.

// COMMAND ----------

assert(z.grad == null, "z is not a leaf, so it keeps no gradient")

val secondPass = scala.util.Try(loss.backward())
println(secondPass)
assert(secondPass.isFailure)
assert(secondPass.failed.get.getMessage.startsWith("Trying to backward through the graph a second time"))

// COMMAND ----------

val z2 = x.matmul(w).add(b).retainGrad()
val loss2 = F.binaryCrossEntropyWithLogits(z2, y)
w.grad.zero_(); b.grad.zero_()
loss2.backward(null, true)   // retainGraph = true: the graph may be traversed again
assert(z2.grad.allClose(dLossDz, 1e-6, 1e-7), "retainGrad() kept the intermediate gradient")
loss2.backward(null, true)
assert(b.grad.allClose(dLossDz.mul(2), 1e-6, 1e-7), "the second pass added to b.grad")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Disabling gradient tracking
// MAGIC
// MAGIC After training, or for the parts of a network we freeze, we only want forward computations.
// MAGIC `GradMode.noGrad()` is PyTorch's `torch.no_grad()`: nothing run inside it is recorded. It is a
// MAGIC closeable scope (Java's try-with-resources, Scala's `Using`).

// COMMAND ----------

val tracked = x.matmul(w).add(b)
println(tracked.requiresGrad)

val untracked = Using.resource(GradMode.noGrad()) { _ =>
  x.matmul(w).add(b)
}
println(untracked.requiresGrad)

assert(tracked.requiresGrad && tracked.gradFn != null)
assert(!untracked.requiresGrad && untracked.gradFn == null)
assert(GradMode.isEnabled, "the scope restores gradient mode when it closes")

// COMMAND ----------

// MAGIC %md
// MAGIC The other way is `detach()`: a tensor that shares the values but is outside the graph.

// COMMAND ----------

val zDet = x.matmul(w).add(b).detach()
println(zDet.requiresGrad)
assert(!zDet.requiresGrad && zDet.isLeaf)
assert(zDet.valueEquals(tracked), "same values, no history")

// COMMAND ----------

// MAGIC %md
// MAGIC ## More on computational graphs
// MAGIC
// MAGIC The graph is built anew on every forward pass, so ordinary control flow decides its shape: a loop
// MAGIC that runs a data-dependent number of times records exactly the operations it ran.

// COMMAND ----------

val v = Tensor.of(0.5f, -1.0f, 2.0f).requiresGrad_()
var h = v
var doublings = 0
while (h.abs().sum().item() < 50) {
  h = h.mul(2)
  doublings += 1
}
h.sum().backward()
println(s"doubled $doublings times; v.grad = ${v.grad}")
assert(doublings == 4, "|v| sums to 3.5: 7, 14, 28, 56")
assert(v.grad.valueEquals(Tensor.full(16.0, v.dtype, 3)), "d(2^4 v)/dv = 16")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Optional reading: tensor gradients and Jacobian products
// MAGIC
// MAGIC When the output is a tensor rather than a scalar, `backward(v)` computes the Jacobian product
// MAGIC `vᵀ·J` for a given `v` of the output's shape, not the Jacobian itself. For `out = (inp + 1)²` the
// MAGIC Jacobian is diagonal with entries `2 (inp + 1)`, so with `v` all ones the product is `2 (inp + 1)`:
// MAGIC 4 on the diagonal of `inp = eye(5)`, 2 elsewhere.

// COMMAND ----------

val inp = Tensor.eye(5).requiresGrad_()
val out = inp.add(1).pow(2)
val expected = Tensor.eye(5).mul(2).add(2)

out.backward(Tensor.onesLike(inp), true)
println(s"First call\n${inp.grad}")
assert(inp.grad.valueEquals(expected))

// COMMAND ----------

// MAGIC %md
// MAGIC Calling `backward` a second time with the same argument gives a different `grad`: gradients
// MAGIC **accumulate** — each pass adds into `grad` — so after two passes it holds twice the product.

// COMMAND ----------

out.backward(Tensor.onesLike(inp), true)
println(s"Second call\n${inp.grad}")
assert(inp.grad.valueEquals(expected.mul(2)))

// COMMAND ----------

// MAGIC %md
// MAGIC To get the proper gradient again, zero it first. In training, the optimizer's `zeroGrad()` does this
// MAGIC before every step.

// COMMAND ----------

inp.grad.zero_()
out.backward(Tensor.onesLike(inp), true)
println(s"Call after zeroing gradients\n${inp.grad}")
assert(inp.grad.valueEquals(expected))

// COMMAND ----------

// MAGIC %md
// MAGIC `backward()` without an argument is `backward(1.0)` for a scalar, the usual case of a loss. For a
// MAGIC tensor output it is an error, since there is no single gradient to start from.

// COMMAND ----------

val noSeed = scala.util.Try(out.backward())
println(noSeed)
assert(noSeed.isFailure)
assert(noSeed.failed.get.getMessage.startsWith("grad can be implicitly created only for scalar outputs"))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Accumulate, then zero — on a Spark cluster
// MAGIC
// MAGIC Accumulation is what makes data-parallel training work. The gradient of a loss summed over many
// MAGIC rows is the sum of the per-row gradients, so each Spark partition can run `backward()` row after row
// MAGIC into its own copy of the leaves, and the partitions' gradients add up to the gradient of the whole
// MAGIC data set. Sparkgrad's `DistributedTrainer` does this every step (with `treeAggregate`; the next
// MAGIC notebook uses it through a Spark ML Estimator). Here is the idea by hand, with the tutorial's
// MAGIC network, on 2,000 seeded rows of `(x, y)` with 5 features and 3 targets.

// COMMAND ----------

import org.apache.spark.SparkContext
import org.apache.spark.sql.SparkSession

val spark = SparkSession.builder().getOrCreate()
val sc = spark.sparkContext

// COMMAND ----------

/** Row `id` of the data set: 5 features in [-1, 1) and 3 targets in {0, 1}, a pure function of the id. */
def example(id: Long): (Array[Float], Array[Float]) = {
  val r = new java.util.SplittableRandom(id)
  (Array.fill(5)(r.nextDouble(-1, 1).toFloat), Array.fill(3)(r.nextInt(2).toFloat))
}

/** The summed gradient of the tutorial's loss over `ids`, accumulated row by row into fresh leaves. */
def accumulatedGradient(wValues: Array[Float], bValues: Array[Float], ids: Iterator[Long]): Array[Float] = {
  val wl = Tensor.of(wValues, 5, 3).requiresGrad_()
  val bl = Tensor.of(bValues, 3).requiresGrad_()
  for (id <- ids) {
    val (xs, ys) = example(id)
    F.binaryCrossEntropyWithLogits(Tensor.of(xs: _*).matmul(wl).add(bl), Tensor.of(ys: _*)).backward()
  }
  if (wl.grad == null) new Array[Float](18) else wl.grad.toFloatArray ++ bl.grad.toFloatArray
}

/** The same sum computed by the cluster: each partition accumulates over its rows, then the partitions' sums are added. */
def distributedGradient(sc: SparkContext, wValues: Array[Float], bValues: Array[Float], rows: Long,
                        partitions: Int): Array[Float] = {
  val wB = sc.broadcast(wValues)
  val bB = sc.broadcast(bValues)
  try {
    sc.range(0, rows, 1, partitions)
      .mapPartitions(ids => Iterator(accumulatedGradient(wB.value, bB.value, ids)))
      .reduce((g1, g2) => g1.zip(g2).map { case (a, c) => a + c })
  } finally {
    wB.destroy()
    bB.destroy()
  }
}

// COMMAND ----------

// MAGIC %md
// MAGIC The functions take what they need as parameters, so the closures Spark ships to the executors
// MAGIC carry two small arrays and nothing else from the notebook (a closure that used `w` itself would drag
// MAGIC the tensor along, and tensors are not serializable).

// COMMAND ----------

val rows = 2000L
val wNow = w.detach().toFloatArray
val bNow = b.detach().toFloatArray
val distributed = distributedGradient(sc, wNow, bNow, rows, 4)
val local = accumulatedGradient(wNow, bNow, (0L until rows).iterator)

val maxDiff = distributed.zip(local).map { case (a, c) => math.abs(a - c) }.max
println(f"4 partitions vs one process: max |difference| = $maxDiff%.2e over ${distributed.length} gradient entries")
assert(maxDiff < 1e-3, "the partitions' accumulated gradients add up to the single-process one (float32 rounding aside)")

// COMMAND ----------

// MAGIC %md
// MAGIC Dividing that sum by the row count gives the gradient of the mean loss: one step of gradient
// MAGIC descent on the whole data set, computed by the cluster. Then the gradients are zeroed and the next
// MAGIC step begins — the tutorial's last lesson, at scale.
// MAGIC
// MAGIC *Based on the PyTorch tutorial "Automatic differentiation with torch.autograd"
// MAGIC (pytorch.org/tutorials, BSD licence).*
