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
