#!/usr/bin/env bash
# Runs every test of every module: the README's test command and what CI runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
# Native OpenBLAS, so the tests check our own matrix kernel against it.
apt_install libopenblas0-pthread
# PoCL's CPU OpenCL driver, so the OpenCL backend's conformance suite runs (it skips, saying why, without one).
apt_install pocl-opencl-icd ocl-icd-libopencl1
cd "$SPARKGRAD_HOME"
mvn -B -Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=warn verify "$@"
