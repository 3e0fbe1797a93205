#!/usr/bin/env bash
# Runs every test of every module: the README's test command and what CI runs (.ci/run).
#
# On a fresh Debian machine (as root) it first installs what the tests need, so that none of them is
# skipped for want of a package:
#   libopenblas0-pthread           native OpenBLAS, which the tests check our own matrix kernels against
#   dataset-fashion-mnist          the real data of the IDX reader, example, jobs and notebook tests
#   python3-torch, python3-numpy   PyTorch, for the safetensors and model interop tests (Debian's /usr/bin/python3)
#   python3-nbformat               Jupyter's validator for the notebooks' .ipynb versions
#   fontconfig, fonts-dejavu-core  a font for the training curve the jobs draw (headless AWT needs one)
#   pocl-opencl-icd, ocl-icd-libopencl1  PoCL's CPU OpenCL driver, so the OpenCL backend's conformance suite
#                                  runs (it skips, saying why, without one)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_toolchain
apt_install libopenblas0-pthread dataset-fashion-mnist python3-torch python3-numpy python3-nbformat \
    fontconfig fonts-dejavu-core pocl-opencl-icd ocl-icd-libopencl1
cd "$SPARKGRAD_HOME"
mvn -B -Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=warn verify "$@"
