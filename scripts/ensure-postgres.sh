#!/usr/bin/env bash
# The portability tests start a throwaway PostgreSQL 15 cluster on 127.0.0.1.
# Install Debian's server package when it is missing (needs root or sudo).
set -euo pipefail
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then exit 0; fi
done
if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then exit 0; fi
echo "PostgreSQL server not found: installing Debian's postgresql package" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql >/dev/null
