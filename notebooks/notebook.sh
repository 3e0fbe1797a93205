#!/usr/bin/env bash
# Runs the Databricks notebooks outside Databricks, or writes their Jupyter versions.
#
#   notebooks/notebook.sh run [--master URL] [--conf KEY=VALUE]... NOTEBOOK.scala...
#       Runs every code cell in an embedded Scala 2.13 REPL against real Spark (default master
#       local[2]), as the tests do; stops at the first failing cell with its number and error.
#   notebooks/notebook.sh ipynb [-o OUT_DIR] [NOTEBOOK.scala...]
#       Writes .ipynb versions for a Scala kernel such as almond (default: every notebooks/*.scala
#       into notebooks/target/ipynb): markdown cells from "MAGIC %md", code cells with the same Scala.
#
# Builds the notebooks module first when its classes are missing. Example:
#   notebooks/notebook.sh run --conf spark.sparkgrad.fashionMnist.dir=/usr/share/datasets/fashion-mnist \
#       notebooks/02-fashion-mnist-distributed.scala
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
ensure_toolchain

command="${1:-}"
case "$command" in
    run|ipynb) shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "notebook.sh: unknown command '$command' (run or ipynb)" >&2; exit 2 ;;
esac
if [ "$command" = ipynb ]; then
    has_file=0 has_out=0
    for a in "$@"; do case "$a" in *.scala) has_file=1 ;; -o) has_out=1 ;; esac; done
    [ "$has_file" = 1 ] || set -- "$@" "$SPARKGRAD_HOME"/notebooks/*.scala
    [ "$has_out" = 1 ] || set -- -o "$SPARKGRAD_HOME/notebooks/target/ipynb" "$@"
fi

target="$SPARKGRAD_HOME/notebooks/target"
classpath_file="$target/notebook-classpath.txt"
if [ ! -f "$target/classes/io/sparkgrad/notebooks/Main.class" ] || [ ! -s "$classpath_file" ]; then
    echo "notebook.sh: building the notebooks module" >&2
    # compile scope = compile + provided (Spark). In one reactor run the notebooks module writes the
    # classpath file last, with the engine's and the connector's freshly built jars on it.
    mvn_quiet -pl notebooks -am package -DskipTests dependency:build-classpath -Dmdep.includeScope=compile \
        -Dmdep.outputFile="$classpath_file" >&2
fi
classpath="$target/classes:$(cat "$classpath_file")"

java_options=()
if [ "$command" = run ]; then
    # The JVM options Spark's launcher would add (add-opens, the Vector API module, ...).
    launcher_jar="$(tr ':' '\n' < "$classpath_file" | grep '/spark-launcher_' | head -n 1)"
    mapfile -t java_options < <(java -cp "$launcher_jar" "$SPARKGRAD_HOME/scripts/SparkJavaOptions.java")
    export SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"
    export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
fi
exec java "${java_options[@]}" -Xss4m -cp "$classpath" io.sparkgrad.notebooks.Main "$command" "$@"
