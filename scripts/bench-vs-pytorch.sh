#!/usr/bin/env bash
# Side-by-side benchmark: the same workloads in PyTorch (Debian's python3-torch, its best
# configuration for the thread count) and in Sparkgrad, one after the other in the same run, with
# the same thread count; prints a table with the ratio PyTorch time / Sparkgrad time per line
# ("speed-up": above 1 means Sparkgrad is faster).
#
#   scripts/bench-vs-pytorch.sh [--threads 1|2|both] [--quick] [--no-build] [WORKLOAD...]
#
# --no-build skips the Maven build (benchmarks/target/benchmarks.jar must exist), so that short
# runs of a few workloads time only the workloads.
#
# Workloads: sgemm:N, ew:OP:SIZE, tutorial, mlp:BATCH (see benchmarks/.../Workloads.java).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
apt_install python3-torch python3-numpy libopenblas0-pthread

threads_list="1 2"
workloads=()
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) shift; [ "$1" = both ] && threads_list="1 2" || threads_list="$1" ;;
        --quick) workloads=(sgemm:512 tutorial mlp:128) ;;
        --no-build) build=0 ;;
        *) workloads+=("$1") ;;
    esac
    shift
done
if [ ${#workloads[@]} -eq 0 ]; then
    workloads=(sgemm:128 sgemm:256 sgemm:512 sgemm:1024 sgemm:2048
               ew:add:1048576 ew:exp:1048576 ew:tanh:1048576 ew:sigmoid:1048576 ew:sum:1048576
               ew:add:16777216 ew:exp:16777216
               tutorial mlp:32 mlp:128 mlp:1024)
fi

[ "$build" = 0 ] || mvn_quiet -DskipTests install
jar="$SPARKGRAD_HOME/benchmarks/target/benchmarks.jar"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for t in $threads_list; do
    # PyTorch's best configuration (shared/BENCHMARKING.md): thread counts set before import,
    # passive OpenMP waiting when more than one thread, so its workers do not fight OpenBLAS's.
    OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
        /usr/bin/python3 "$SPARKGRAD_HOME/scripts/bench_pytorch.py" "${workloads[@]}" > "$out/torch-$t.tsv"
    OPENBLAS_NUM_THREADS=$t java --add-modules jdk.incubator.vector -Dsparkgrad.threads=$t \
        -cp "$jar" io.sparkgrad.bench.Compare "${workloads[@]}" 2>"$out/java-$t.log" > "$out/java-$t.tsv" \
        || { cat "$out/java-$t.log" >&2; exit 1; }
done

echo "Sparkgrad vs PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') on $(nproc) cores, $(date -u +%Y-%m-%d)"
grep -h "matrix products use" "$out"/java-*.log | sort -u | sed 's/^.*INFO: /sparkgrad: /' || true
printf "%-18s %7s %14s %14s %10s\n" workload threads "pytorch_us" "sparkgrad_us" "speed-up"
for t in $threads_list; do
    join -t $'\t' <(sort "$out/torch-$t.tsv") <(sort "$out/java-$t.tsv") | \
        awk -F'\t' -v t="$t" '{ printf "%-18s %7s %14.2f %14.2f %9.2fx\n", $1, t, $2, $5, $2 / $5 }'
done
