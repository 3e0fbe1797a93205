#!/usr/bin/env bash
# Runs a Sparkgrad job (train, evaluate or predict) on the standalone cluster that scripts/cluster-up.sh
# started, through org.apache.spark.deploy.SparkSubmit, the class spark-submit itself runs: client mode,
# the driver in this JVM, the jobs jar shipped to the executors by SparkSubmit.
#
#   scripts/submit.sh [-d RUN_DIR] [-m DRIVER_MEMORY] [--conf KEY=VALUE]... JOB [JOB OPTIONS]
#
#   -d RUN_DIR        the cluster's run directory (default: $SPARKGRAD_CLUSTER_DIR or target/cluster)
#   -m DRIVER_MEMORY  the driver JVM's heap, e.g. 2g (default 1g); in client mode -Xmx, not --driver-memory
#   --conf KEY=VALUE  any Spark setting, passed to SparkSubmit as is (repeatable)
#
# Example:
#   scripts/cluster-up.sh
#   scripts/submit.sh train --input /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
#       --limit 5000 --epochs 2 --output /tmp/fmnist-model
#   scripts/submit.sh predict --model /tmp/fmnist-model \
#       --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --output /tmp/fmnist-predictions
#   scripts/cluster-down.sh
#
# The jobs jar is jobs/target/sparkgrad-jobs.jar, built when missing (SPARKGRAD_JOBS_JAR names another).
# The exit status is the job's: 0, 1 for a failure, 2 for a bad argument or unreadable input.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

run_dir="${SPARKGRAD_CLUSTER_DIR:-$SPARKGRAD_HOME/target/cluster}"
driver_memory=1g
confs=()
while [ $# -gt 0 ]; do
    case "$1" in
        -d) [ $# -ge 2 ] || usage; run_dir="$2"; shift 2 ;;
        -m) [ $# -ge 2 ] || usage; driver_memory="$2"; shift 2 ;;
        --conf) [ $# -ge 2 ] || usage; confs+=(--conf "$2"); shift 2 ;;
        -h|--help) usage ;;
        -*) echo "submit: unknown option $1 before the job name (see scripts/submit.sh --help)" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
[[ "$driver_memory" =~ ^[0-9]+[kmgKMG]$ ]] || { echo "submit: -m must be a size such as 2g, got '$driver_memory'" >&2; exit 2; }

if [ ! -f "$run_dir/cluster.env" ]; then
    echo "submit: no running cluster recorded in $run_dir (no cluster.env); start one with scripts/cluster-up.sh" >&2
    exit 1
fi
env_value() { # KEY: its value in cluster.env (read, not sourced: values may hold spaces)
    sed -n "s/^$1=//p" "$run_dir/cluster.env" | head -n 1
}
MASTER_URL="$(env_value MASTER_URL)"
MASTER_PID="$(env_value MASTER_PID)"
SPARK_HOME="$(env_value SPARK_HOME)"
if ! kill -0 "$MASTER_PID" 2>/dev/null; then
    echo "submit: the Master recorded in $run_dir (pid $MASTER_PID) is not running; restart with scripts/cluster-up.sh" >&2
    exit 1
fi

ensure_toolchain
jar="${SPARKGRAD_JOBS_JAR:-$SPARKGRAD_HOME/jobs/target/sparkgrad-jobs.jar}"
if [ ! -f "$jar" ]; then
    echo "submit: building $jar" >&2
    mvn_quiet -o -DskipTests package -pl jobs -am >&2 2>/dev/null || mvn_quiet -DskipTests package -pl jobs -am >&2
fi

launcher_jar="$(ls "$SPARK_HOME"/jars/spark-launcher_*.jar | head -n 1)"
mapfile -t java_options < <(java -cp "$launcher_jar" "$SPARKGRAD_HOME/scripts/SparkJavaOptions.java")

export SPARK_HOME
export SPARK_CONF_DIR="$SPARK_HOME/conf"
export SPARK_SCALA_VERSION=2.13
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOCAL_HOSTNAME=127.0.0.1
export OPENBLAS_NUM_THREADS=1

exec java "${java_options[@]}" -Xmx"$driver_memory" -Djava.awt.headless=true -cp "$SPARK_HOME/jars/*" \
    org.apache.spark.deploy.SparkSubmit \
    --master "$MASTER_URL" --deploy-mode client \
    --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.executor.memory=1g \
    "${confs[@]}" \
    --class io.sparkgrad.jobs.Main "$jar" "$@"
