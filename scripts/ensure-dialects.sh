#!/usr/bin/env bash
# The dialect proof compiles the project for Snowflake, BigQuery, Databricks and
# Redshift: their adapters live in .venv-dialects, made (again) from
# dev/dialects/requirements.txt when it is missing or the file has changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-dialects
STAMP="$VENV/requirements.sha256"
WANT="$(sha256sum dev/dialects/requirements.txt | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  exit 0
fi
echo "Installing the dialect proof's adapters into $VENV (dev/dialects/requirements.txt)" >&2
rm -rf "$VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r dev/dialects/requirements.txt 2>&1 | grep -v "^WARNING: Location" >&2 || true
"$VENV/bin/python" -c "import dbt.adapters.snowflake, dbt.adapters.bigquery, \
dbt.adapters.databricks, dbt.adapters.redshift, sqlglot"
echo "$WANT" > "$STAMP"
