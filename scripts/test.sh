#!/usr/bin/env bash
# Runs every test of every module: the README's test command and what CI runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
# Native OpenBLAS, so the tests check our own matrix kernel against it.
apt_install libopenblas0-pthread
cd "$SPARKGRAD_HOME"
mvn -B -Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=warn verify "$@"
