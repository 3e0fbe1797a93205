#!/usr/bin/env bash
# The README's main command: trains a Fashion-MNIST classifier with Spark (local[*], every core of this
# machine) through the `train` job, evaluates it on the 10,000 test images with the `evaluate` job, and
# prints the test accuracy and where the model, metrics and training curve were written.
#
#   scripts/demo.sh [TRAIN OPTIONS]
#
# On a fresh Debian machine (as root) it installs what is missing (Java 17, Maven, Debian's
# dataset-fashion-mnist, fonts for the curve) and builds the jobs jar. Options are passed to the train
# job and override the demo's settings, e.g. scripts/demo.sh --epochs 8 --layers 256,128
# (see: scripts/demo.sh --help). Results go to target/demo/fashion-mnist/ (replaced on every run).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
apt_install dataset-fashion-mnist fontconfig fonts-dejavu-core

data=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
    [ -f "$data/$f" ] || { echo "demo: $data/$f is missing; is dataset-fashion-mnist installed? (dpkg -L dataset-fashion-mnist)" >&2; exit 1; }
done

cd "$SPARKGRAD_HOME"
jar=jobs/target/sparkgrad-jobs.jar
work=target/demo
mkdir -p "$work"

# Build what is missing or older than its sources (engine, connector and jobs, installed for the classpath below).
if [ ! -f "$jar" ] || [ -n "$(find pom.xml engine spark-connector jobs -newer "$jar" \( -name '*.java' -o -name pom.xml \) -print -quit)" ]; then
    echo "demo: building the jobs jar" >&2
    mvn_quiet -o -DskipTests install -pl jobs -am >/dev/null 2>&1 || mvn_quiet -DskipTests install -pl jobs -am >&2
fi

# Spark's runtime classpath from Maven Central (no Spark distribution needed); Sparkgrad itself comes from the jar.
classpath_file="$work/classpath.txt"
if [ ! -s "$classpath_file" ] || [ pom.xml -nt "$classpath_file" ] || [ spark-connector/pom.xml -nt "$classpath_file" ]; then
    args=(dependency:build-classpath -pl spark-connector -Dmdep.includeScope=compile -Dmdep.outputFile="$PWD/$classpath_file")
    mvn_quiet -o "${args[@]}" >/dev/null 2>&1 || mvn_quiet "${args[@]}" >&2
fi
spark_cp="$(tr ':' '\n' < "$classpath_file" | grep -v '/io/sparkgrad/' | paste -sd: -)"
launcher_jar="$(tr ':' '\n' < "$classpath_file" | grep '/spark-launcher_' | head -n 1)"
mapfile -t java_options < <(java -cp "$launcher_jar" scripts/SparkJavaOptions.java)

export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOCAL_HOSTNAME=127.0.0.1
export OPENBLAS_NUM_THREADS=1

# Spark's warnings and errors only, so the jobs' own lines stand out (the jobs then keep this configuration).
cat > "$work/log4j2.properties" <<'EOF'
rootLogger.level = warn
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.nativecode.name = org.apache.hadoop.util.NativeCodeLoader
logger.nativecode.level = error
EOF

submit() { # JOB ARGS...: the job through SparkSubmit, exactly as spark-submit --master local[*] runs it
    java "${java_options[@]}" -Xmx3g -Djava.awt.headless=true -Dlog4j2.configurationFile="$PWD/$work/log4j2.properties" \
        -cp "$spark_cp" org.apache.spark.deploy.SparkSubmit \
        --master 'local[*]' --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
        --conf spark.ui.enabled=false --class io.sparkgrad.jobs.Main "$jar" "$@" --log-level keep
}

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo
    submit train --help
    exit 0
fi

out="$work/fashion-mnist"
start=$SECONDS
submit train --input "$data/train-images-idx3-ubyte.gz" --layers 128 --epochs 4 --batch 256 --lr 0.002 \
    --validation 0.1 --seed 42 --output "$out" --overwrite "$@"
submit evaluate --model "$out" --input "$data/t10k-images-idx3-ubyte.gz" --output "$out/test-metrics.json" \
    --overwrite | tee "$work/evaluate.txt"
echo "demo: trained and evaluated in $((SECONDS - start)) s; the model is in $out/model, the weights in"
echo "demo: $out/weights.safetensors, the metrics in $out/metrics.json (test: test-metrics.json), the curve in $out/curve.png"
