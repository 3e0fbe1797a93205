#!/usr/bin/env bash
# The scale runs of RELIABILITY.md ("## Scale"), each in a JVM of its own on local[2] with the heap
# that the run is about, under `nice -n 19` (they are long; the machine may be shared):
#
#   1. generate: a seeded synthetic data set (labels from a fixed random teacher network) written as
#      Parquet, ROWS rows x 100 features (default 20 million: about 8 GB);
#   2. train:    one epoch of an MLP 100-64-10 over it on local[2] with a 1 GiB heap (the driver and
#      the executors share it) and otherwise Spark's and the trainer's defaults: the cached Arrow
#      chunks must spill to disk;
#   3. bigmodel: a 50-million-parameter MLP trains 3 synchronous steps on local[2] (6 GiB heap);
#   4. refuse:   the same model with a 1 GiB heap, which the trainer's pre-flight check must refuse
#      with a message that names spark.driver.memory.
#
#   scripts/scale-run.sh [-r ROWS] [-d DATA_DIR] [STEP...]      (steps: generate train bigmodel refuse; default all)
#
# Each step prints one "scale-run result:" line, GNU time's wall time and peak resident memory, and
# the load average before and after; everything also goes to target/scale-run/scale-run.log.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain

rows=20000000
data_dir="$SPARKGRAD_HOME/target/scale-run/teacher-parquet"
while getopts "r:d:h" opt; do
    case "$opt" in
        r) rows="$OPTARG" ;;
        d) data_dir="$OPTARG" ;;
        *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[[ "$rows" =~ ^[1-9][0-9]*$ ]] || { echo "scale-run: -r must be a positive number of rows, got '$rows'" >&2; exit 2; }
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(generate train bigmodel refuse)
for s in "${steps[@]}"; do
    case "$s" in generate|train|bigmodel|refuse) ;; *) echo "scale-run: unknown step '$s' (generate, train, bigmodel, refuse)" >&2; exit 2 ;; esac
done
command -v /usr/bin/time >/dev/null || apt_install time

out_dir="$SPARKGRAD_HOME/target/scale-run"
mkdir -p "$out_dir"
log="$out_dir/scale-run.log"
cp_file="$SPARKGRAD_HOME/spark-connector/target/scale-classpath.txt"
mvn_quiet -o -DskipTests test-compile dependency:build-classpath -pl spark-connector -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" 2>/dev/null \
  || mvn_quiet -DskipTests test-compile dependency:build-classpath -pl spark-connector -am \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file"
classpath="$SPARKGRAD_HOME/spark-connector/target/test-classes:$SPARKGRAD_HOME/spark-connector/target/classes:$(cat "$cp_file")"
launcher_jar="$(tr ':' '\n' < "$cp_file" | grep -m1 'spark-launcher_')"
mapfile -t java_options < <(java -cp "$launcher_jar" "$SPARKGRAD_HOME/scripts/SparkJavaOptions.java")
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=127.0.0.1 OPENBLAS_NUM_THREADS=1

run() { # HEAP MODE ARGS...: one ScaleRun in its own JVM, timed; prints and logs its result
    local heap="$1"
    shift
    echo "== scale-run $* (-Xmx$heap), load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
    local status=0
    nice -n 19 /usr/bin/time -f "wall %e s, peak resident memory %M KiB, exit %x" \
        java "${java_options[@]}" -Xss512k -Xmx"$heap" ${SCALE_JAVA_OPTS:-} -Djava.io.tmpdir="$out_dir/tmp" \
        -Dspark.local.dir="$out_dir/spark-local" -cp "$classpath" \
        io.sparkgrad.spark.scale.ScaleRun "$@" > "$out_dir/last.out" 2>&1 || status=$?
    { grep -E '^scale-run result:|^wall .* exit|Exception:' "$out_dir/last.out" || true; } | head -n 5 | tee -a "$log"
    echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
    return $status
}
mkdir -p "$out_dir/tmp" "$out_dir/spark-local"

for s in "${steps[@]}"; do
    case "$s" in
        generate) run 1g generate out="$data_dir" rows="$rows" ;;
        # Spark's defaults (128 MiB input partitions, spark.memory.fraction 0.6) and the trainer's:
        # what a user who only sets a 1 GiB heap gets.
        train) run 1g train data="$data_dir" epochs=1 batch=4096 ;;
        bigmodel) run 6g bigmodel params=50000000 steps=3 batch=256 ;;
        refuse)
            if run 1g bigmodel params=50000000 steps=3 batch=256; then
                echo "scale-run: the 50M-parameter model with a 1 GiB heap was not refused" | tee -a "$log" >&2
                exit 1
            fi
            grep -q 'raise spark.driver.memory' "$out_dir/last.out" \
                || { echo "scale-run: the refusal does not name spark.driver.memory" | tee -a "$log" >&2; exit 1; }
            { grep -o 'a model of [^:]*: raise spark.driver.memory[^,]*' "$out_dir/last.out" || true; } | head -n 1 | tee -a "$log"
            ;;
    esac
done
