#!/usr/bin/env bash
# Shared set-up for the project's scripts: find the repository, make sure Java 17+ and Maven are
# there (installing Debian packages when missing and running as root), and build what is missing.
set -euo pipefail

SPARKGRAD_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SPARKGRAD_HOME

# apt_install PKG...: installs the Debian packages that are not installed yet.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "sparkgrad: please install these Debian packages (as root): ${missing[*]}" >&2
            exit 1
        fi
        echo "sparkgrad: installing ${missing[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

ensure_toolchain() {
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless
    command -v mvn >/dev/null 2>&1 || apt_install maven
}

# mvn_quiet ARGS...: Maven in batch mode, without download progress noise.
mvn_quiet() {
    (cd "$SPARKGRAD_HOME" && mvn -B -q -Dstyle.color=never -Dorg.slf4j.simpleLogger.log.org.apache.maven.cli.transfer.Slf4jMavenTransferListener=warn "$@")
}

# fashion_mnist_dir: prints the directory of Fashion-MNIST's IDX files from Debian's
# dataset-fashion-mnist package, installing the package first when it is missing (as root); exits
# with a message that says what to do when it is missing and cannot be installed.
fashion_mnist_dir() {
    if ! (apt_install dataset-fashion-mnist); then
        echo "sparkgrad: Fashion-MNIST is missing and could not be installed. Install Debian's package as root" \
             "(apt-get install dataset-fashion-mnist)." >&2
        exit 1
    fi
    local images
    images="$(dpkg -L dataset-fashion-mnist | grep -m1 '/train-images-idx3-ubyte' || true)"
    if [ -z "$images" ] || [ ! -f "$images" ]; then
        echo "sparkgrad: dataset-fashion-mnist is installed but lists no train-images-idx3-ubyte file" \
             "(dpkg -L dataset-fashion-mnist); reinstall it: apt-get install --reinstall dataset-fashion-mnist" >&2
        exit 1
    fi
    dirname "$images"
}
