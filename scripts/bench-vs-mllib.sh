#!/usr/bin/env bash
# Sparkgrad against Spark MLlib on Fashion-MNIST, in the same run, on local[2]:
#   MLlib's MultilayerPerceptronClassifier (784-128-10, l-bfgs, 50 iterations) and Sparkgrad's
#   NeuralNetClassifier (784-256-128-10 ReLU) fit the same cached DataFrame and are scored on the same
#   10,000 test rows; then the same network trains in one process on the engine alone (2 threads),
#   timed to the accuracy Sparkgrad reached on Spark.
# Prints fit times, test accuracies and ratios, and ends with the lines
#   sparkgrad test accuracy: 0.xxxx
#   fit time ratio sparkgrad/mllib: x.xx
#
#   scripts/bench-vs-mllib.sh [key=value ...]
# keys: epochs, batch, lr, optimizer, localSteps, outer (averaging|nesterov), hidden (256,128), seed,
#       mllib/engine (true|false), mllibIter, data (IDX folder); the defaults are Sparkgrad's chosen
#       settings (benchmarks/RESULTS.md says how they were chosen).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
# The data set, and native OpenBLAS for both sides' matrix products (MLlib's reference figure used it).
apt_install dataset-fashion-mnist libopenblas0-pthread
data_dir="$(dirname "$(dpkg -L dataset-fashion-mnist | grep 'train-images-idx3-ubyte' | head -n 1)")"

cd "$SPARKGRAD_HOME"
cp_file="$SPARKGRAD_HOME/spark-connector/target/bench-classpath.txt"
# Compiles the engine and the connector (with its test classes, where this benchmark lives) and writes
# the connector's full classpath: Spark is `provided`, so the test scope is the one that holds it.
mvn_quiet -DskipTests test-compile dependency:build-classpath -pl spark-connector -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
classpath="$SPARKGRAD_HOME/spark-connector/target/test-classes:$SPARKGRAD_HOME/spark-connector/target/classes:$(cat "$cp_file")"
launcher_jar="$(tr ':' '\n' < "$cp_file" | grep -m1 'spark-launcher_')"
mapfile -t java_options < <(java -cp "$launcher_jar" "$SPARKGRAD_HOME/scripts/SparkJavaOptions.java")

export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=127.0.0.1
bench() { # BLAS_THREADS ARGS...
    OPENBLAS_NUM_THREADS="$1" java "${java_options[@]}" -Xss512k -Xmx8g -cp "$classpath" \
        io.sparkgrad.spark.ml.BenchVsMllib data="$data_dir" "${@:2}"
}
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# Spark: one BLAS thread per task, two tasks on two cores (BENCHMARKING.md: threads x processes <= cores).
bench 1 "$@" | tee "$out"
accuracy="$(sed -n 's/^sparkgrad test accuracy: //p' "$out")"
seconds="$(sed -n 's/^sparkgrad NeuralNetClassifier.*: fit \([0-9.]*\) s,.*/\1/p' "$out")"
[ -n "$accuracy" ] && [ -n "$seconds" ] || { echo "bench-vs-mllib: the Spark run printed no result" >&2; exit 1; }
# The engine alone, in its own JVM with both cores for its BLAS, to the accuracy Sparkgrad reached.
bench 2 "$@" mode=engine target="$accuracy" sparkSeconds="$seconds"
# The two result lines, last.
grep -E '^(sparkgrad test accuracy|fit time ratio sparkgrad/mllib): ' "$out"
