#!/usr/bin/env bash
# The README's main command. Until the Spark demo lands, it runs PyTorch's autograd tutorial
# redone with Sparkgrad (engine/src/main/java/io/sparkgrad/examples/AutogradTutorial.java).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
mvn_quiet -DskipTests install
cd "$SPARKGRAD_HOME"
mvn -B -q -Dstyle.color=never -pl engine exec:java -Dexec.mainClass=io.sparkgrad.examples.AutogradTutorial
