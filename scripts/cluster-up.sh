#!/usr/bin/env bash
# Starts a real Spark standalone cluster on 127.0.0.1: one Master and N Workers (default 2), each a
# plain `java` process on the project's own Maven classpath (no Spark distribution needed), with the
# JVM options Spark's launcher would add. Waits for the Master's "I have been elected leader" and each
# Worker's "Successfully registered with master" log line instead of sleeping. Records the PIDs in the
# run directory; scripts/cluster-down.sh stops exactly those processes.
#
#   scripts/cluster-up.sh [-n WORKERS] [-c CORES_PER_WORKER] [-m MEMORY_PER_WORKER] [-d RUN_DIR]
#
# Environment (all optional):
#   SPARKGRAD_CLUSTER_DIR   run directory (default: target/cluster under the repository); -d overrides
#   SPARKGRAD_MASTER_PORT   Master port (default 7077)
#   SPARKGRAD_UI_PORT       Master web UI port (default 18080); Worker i gets SPARKGRAD_UI_PORT + i
#   SPARKGRAD_SPARK_CLASSPATH  the Spark runtime classpath to use instead of asking Maven for it
#
# Prints the master URL (spark://127.0.0.1:PORT) as its last line; the same facts are written to
# RUN_DIR/cluster.env (MASTER_URL, MASTER_PID, WORKER_PIDS, SPARK_HOME) for tests and other scripts.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain

workers=2
cores=1
memory=2g
run_dir="${SPARKGRAD_CLUSTER_DIR:-$SPARKGRAD_HOME/target/cluster}"
while getopts "n:c:m:d:h" opt; do
    case "$opt" in
        n) workers="$OPTARG" ;;
        c) cores="$OPTARG" ;;
        m) memory="$OPTARG" ;;
        d) run_dir="$OPTARG" ;;
        *) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
[[ "$workers" =~ ^[1-9][0-9]*$ ]] || { echo "cluster-up: -n must be a positive integer, got '$workers'" >&2; exit 2; }
[[ "$cores" =~ ^[1-9][0-9]*$ ]] || { echo "cluster-up: -c must be a positive integer, got '$cores'" >&2; exit 2; }
master_port="${SPARKGRAD_MASTER_PORT:-7077}"
ui_port="${SPARKGRAD_UI_PORT:-18080}"
wait_seconds="${SPARKGRAD_CLUSTER_WAIT:-90}"

mkdir -p "$run_dir"
run_dir="$(cd "$run_dir" && pwd)"

# A cluster already recorded here and still alive is an error, never a silent second one.
for pidfile in "$run_dir"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        echo "cluster-up: $(basename "$pidfile" .pid) (pid $pid) from $run_dir is still running; run scripts/cluster-down.sh -d $run_dir first" >&2
        exit 1
    fi
    rm -f "$pidfile"
done
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for port in "$master_port" "$ui_port"; do
    if port_in_use "$port"; then
        echo "cluster-up: port $port on 127.0.0.1 is already in use (set SPARKGRAD_MASTER_PORT / SPARKGRAD_UI_PORT)" >&2
        exit 1
    fi
done

# ---------------------------------------------------------------- the classpath and a SPARK_HOME
classpath_file="$run_dir/classpath.txt"
if [ -n "${SPARKGRAD_SPARK_CLASSPATH:-}" ]; then
    printf '%s' "$SPARKGRAD_SPARK_CLASSPATH" > "$classpath_file"
elif [ ! -s "$classpath_file" ] || [ "$SPARKGRAD_HOME/pom.xml" -nt "$classpath_file" ] \
        || [ "$SPARKGRAD_HOME/spark-connector/pom.xml" -nt "$classpath_file" ]; then
    # compile scope = compile + provided: Spark itself is `provided` in the connector.
    args=(dependency:build-classpath -pl spark-connector -Dmdep.includeScope=compile -Dmdep.outputFile="$classpath_file")
    mvn_quiet -o "${args[@]}" > /dev/null 2>&1 || mvn_quiet "${args[@]}" >&2
fi

spark_home="$run_dir/spark-home"
rm -rf "$spark_home"
mkdir -p "$spark_home/jars" "$spark_home/conf"
launcher_jar=""
IFS=':' read -r -a entries < "$classpath_file" || true   # the file has no final newline
for jar in "${entries[@]}"; do
    case "$jar" in
        */io/sparkgrad/*) continue ;;          # the application's own jars reach executors from the driver
        *.jar) ln -s "$jar" "$spark_home/jars/$(basename "$jar")" ;;
    esac
    case "$jar" in */spark-launcher_*.jar) launcher_jar="$jar" ;; esac
done
[ -n "$launcher_jar" ] || { echo "cluster-up: no spark-launcher jar on the classpath in $classpath_file" >&2; exit 1; }

mapfile -t java_options < <(java -cp "$launcher_jar" "$SPARKGRAD_HOME/scripts/SparkJavaOptions.java")

export SPARK_HOME="$spark_home"
export SPARK_CONF_DIR="$spark_home/conf"
export SPARK_SCALA_VERSION=2.13
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_LOCAL_HOSTNAME=127.0.0.1
export OPENBLAS_NUM_THREADS=1

start_daemon() { # NAME LOG CLASS ARGS...: starts one daemon in the background, records its PID
    local name="$1" log="$2" class="$3"
    shift 3
    nohup java "${java_options[@]}" -Xmx512m -cp "$spark_home/jars/*" "$class" "$@" > "$log" 2>&1 < /dev/null &
    echo $! > "$run_dir/$name.pid"
}

wait_for_line() { # NAME LOG PATTERN: waits until LOG shows PATTERN, while the process lives
    local name="$1" log="$2" pattern="$3" pid
    pid="$(cat "$run_dir/$name.pid")"
    local deadline=$((SECONDS + wait_seconds))
    until grep -q "$pattern" "$log" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "cluster-up: $name (pid $pid) exited before logging \"$pattern\"; the end of $log:" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "cluster-up: $name (pid $pid) did not log \"$pattern\" within ${wait_seconds}s; the end of $log:" >&2
            tail -n 30 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
}

# Whatever fails from here on, nothing stays running.
trap 'echo "cluster-up: failed; stopping what was started" >&2; "$SPARKGRAD_HOME/scripts/cluster-down.sh" -d "$run_dir" >&2' ERR

master_url="spark://127.0.0.1:$master_port"
start_daemon master "$run_dir/master.log" org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$master_port" --webui-port "$ui_port"
wait_for_line master "$run_dir/master.log" "I have been elected leader"

worker_pids=()
for i in $(seq 1 "$workers"); do
    mkdir -p "$run_dir/work-$i"
    start_daemon "worker-$i" "$run_dir/worker-$i.log" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores "$cores" --memory "$memory" --webui-port $((ui_port + i)) \
        --work-dir "$run_dir/work-$i" "$master_url"
    worker_pids+=("$(cat "$run_dir/worker-$i.pid")")
done
for i in $(seq 1 "$workers"); do
    wait_for_line "worker-$i" "$run_dir/worker-$i.log" "Successfully registered with master"
done
trap - ERR

cat > "$run_dir/cluster.env" <<EOF
MASTER_URL=$master_url
MASTER_PID=$(cat "$run_dir/master.pid")
WORKER_PIDS=${worker_pids[*]}
SPARK_HOME=$spark_home
MASTER_UI=http://127.0.0.1:$ui_port
EOF
echo "cluster-up: master pid $(cat "$run_dir/master.pid"), workers ${worker_pids[*]} ($cores core(s), $memory each); logs in $run_dir" >&2
echo "$master_url"
