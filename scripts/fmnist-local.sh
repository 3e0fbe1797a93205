#!/usr/bin/env bash
# Trains a model on Fashion-MNIST on this machine with the engine alone (no Spark):
#
#   scripts/fmnist-local.sh mlp|cnn [--threads N] [--data DIR] [--no-build] [OPTION VALUE]...
#
#   mlp: 784-256-128-10 ReLU; SGD momentum 0.9, lr 0.1, batch 128, 10 epochs
#   cnn: conv 32 3x3, pool, conv 64 3x3, pool, fc 128, fc 10; SGD momentum 0.9, lr 0.05, batch 128, 5 epochs
#   (the learning rate is annealed along a cosine to 0 over the run; --schedule none keeps it constant)
#
# It prints per-epoch loss, test accuracy and samples/s, a progress line while an epoch runs
# (rewritten in place on a terminal, a line per quarter epoch otherwise) and ends with
# "test accuracy: 0.xxxx".
#
#   --threads N   the engine's threads and OpenBLAS's (default: all cores)
#   --data DIR    the four IDX files (default: Debian's dataset-fashion-mnist, installed when missing)
#   --no-build    skip the Maven build (it must have run once)
# Other options go to the program (engine/src/main/java/io/sparkgrad/examples/FashionMnist.java):
# --epochs N, --batch N, --lr X, --momentum X, --optimizer sgd|adam, --schedule cosine|none,
# --seed N, --train-limit N, --test-limit N, --save FILE (the state dict as safetensors, with
# PyTorch's key names), --progress auto|tty|lines|none.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[ $# -ge 1 ] || usage
model="$1"
shift
case "$model" in
    mlp|cnn) ;;
    -h|--help) usage ;;
    *) echo "fmnist-local.sh: the model must be mlp or cnn, got '$model'" >&2; usage ;;
esac

threads=""
build=1
data_dir=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) [ $# -ge 2 ] || usage; threads="$2"; shift 2 ;;
        --data) [ $# -ge 2 ] || usage; data_dir="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) usage ;;
        *) args+=("$1"); shift ;;
    esac
done

ensure_toolchain
# The data: Debian's package, installed when missing; dpkg says where its IDX files are.
[ -n "$data_dir" ] || data_dir="$(fashion_mnist_dir)"

classpath_file="$SPARKGRAD_HOME/engine/target/runtime.classpath"
if [ "$build" = 1 ] || [ ! -f "$classpath_file" ]; then
    mvn_quiet -Dmaven.test.skip=true -pl engine package
    mvn_quiet -pl engine dependency:build-classpath -DincludeScope=runtime -Dmdep.outputFile="$classpath_file"
fi

progress=lines
[ -t 1 ] && progress=tty
jvm=(--add-modules jdk.incubator.vector -Xmx4g '-Djava.util.logging.SimpleFormatter.format=%4$s: %5$s%n')
if [ -n "$threads" ]; then
    jvm+=("-Dsparkgrad.threads=$threads")
    export OPENBLAS_NUM_THREADS="$threads"
fi
# Options given later win, so the caller's --progress overrides this one.
exec java "${jvm[@]}" -cp "$SPARKGRAD_HOME/engine/target/classes:$(cat "$classpath_file")" \
    io.sparkgrad.examples.FashionMnist "$model" --data "$data_dir" --progress "$progress" "${args[@]}"
