#!/usr/bin/env bash
# Fashion-MNIST training epochs side by side: the example's MLP and small CNN
# (engine/src/main/java/io/sparkgrad/examples/FashionMnist.java) against the same networks in
# PyTorch, same batch (128), optimizer and thread count, through scripts/bench-vs-pytorch.sh (so
# PyTorch runs in the best configuration documented there).
#
#   scripts/bench-fmnist-vs-pytorch.sh [--threads 1|2|both] [--mlp-runs N] [--cnn-runs N] [--rounds R]
#
# Each side trains one warm-up epoch, then N timed epochs (default 5 for the MLP, 3 for the CNN);
# a table shows median epoch times in microseconds and PyTorch time / Sparkgrad time. With
# --rounds R the whole comparison runs R times back to back (PyTorch, Sparkgrad, PyTorch, ...), and
# a last table gives, per line, the median over the rounds of each side and of the ratio: on a
# machine shared with other work that is steadier than one long run of each.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

threads=both
mlp_runs=5
cnn_runs=3
rounds=1
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --mlp-runs) mlp_runs="$2"; shift 2 ;;
        --cnn-runs) cnn_runs="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        *) sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
done

SPARKGRAD_FMNIST_DIR="$(fashion_mnist_dir)"
export SPARKGRAD_FMNIST_DIR

tables="$(mktemp)"
trap 'rm -f "$tables"' EXIT
for r in $(seq 1 "$rounds"); do
    [ "$rounds" -gt 1 ] && echo "round $r of $rounds, $(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$SPARKGRAD_HOME/scripts/bench-vs-pytorch.sh" --threads "$threads" \
        "fmnist-mlp-epoch:$mlp_runs" "fmnist-cnn-epoch:$cnn_runs" | tee -a "$tables"
done
if [ "$rounds" -gt 1 ]; then
    echo "median over $rounds rounds"
    printf "%-18s %7s %14s %14s %10s\n" workload threads "pytorch_us" "sparkgrad_us" "speed-up"
    # Table rows: workload threads pytorch_us sparkgrad_us ratio"x".
    awk '$1 ~ /^fmnist-/ && NF == 5 { key = $1 " " $2; sub(/x$/, "", $5);
             t[key] = t[key] " " $3; s[key] = s[key] " " $4; q[key] = q[key] " " $5; keys[key] = 1 }
         function median(list,   a, n, i, j, v) {
             n = split(list, a, " ");
             for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > v + 0; j--) a[j + 1] = a[j]; a[j + 1] = v }
             return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
         END { for (k in keys) { split(k, w, " ");
                   printf "%-18s %7s %14.2f %14.2f %9.2fx\n", w[1], w[2], median(t[k]), median(s[k]), median(q[k]) } }' \
        "$tables" | sort -k2,2 -k1,1
fi
