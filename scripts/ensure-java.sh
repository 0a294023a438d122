#!/usr/bin/env bash
# The Spark tests run pyspark, which needs a Java runtime (17 or newer).
# Install Debian's default one when none is there (needs root or sudo).
set -euo pipefail
if command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then
  exit 0
fi
echo "Java 17+ not found: installing Debian's default-jre-headless package" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq default-jre-headless >/dev/null
