#!/usr/bin/env bash
# Stops the standalone cluster that scripts/cluster-up.sh started: the processes whose PIDs it recorded
# in the run directory, and nothing else. Workers first, then the Master; each gets SIGTERM and, if it
# is still there after 10 s, SIGKILL. A PID whose process is gone, or is no longer a Spark Master or
# Worker (the number was reused), is only forgotten. Safe to run twice.
#
#   scripts/cluster-down.sh [-d RUN_DIR]        (default: $SPARKGRAD_CLUSTER_DIR or target/cluster)
set -uo pipefail
SPARKGRAD_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

run_dir="${SPARKGRAD_CLUSTER_DIR:-$SPARKGRAD_HOME/target/cluster}"
while getopts "d:h" opt; do
    case "$opt" in
        d) run_dir="$OPTARG" ;;
        *) sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
[ -d "$run_dir" ] || { echo "cluster-down: no run directory $run_dir; nothing to stop" >&2; exit 0; }

is_spark_daemon() { # PID: true when PID is a live Spark Master or Worker JVM
    local cmdline
    cmdline="$(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *org.apache.spark.deploy.master.Master* || "$cmdline" == *org.apache.spark.deploy.worker.Worker* ]]
}

stop() { # PIDFILE
    local pidfile="$1" name pid
    name="$(basename "$pidfile" .pid)"
    pid="$(cat "$pidfile" 2>/dev/null)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && is_spark_daemon "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do
            is_spark_daemon "$pid" || break
            sleep 0.2
        done
        if is_spark_daemon "$pid"; then
            echo "cluster-down: $name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
        echo "cluster-down: stopped $name (pid $pid)" >&2
    fi
    rm -f "$pidfile"
}

shopt -s nullglob
for pidfile in "$run_dir"/worker-*.pid; do
    stop "$pidfile"
done
for pidfile in "$run_dir"/master.pid; do
    stop "$pidfile"
done
rm -f "$run_dir/cluster.env"
