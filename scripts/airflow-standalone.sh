#!/usr/bin/env bash
# `make airflow`: watch the mediamon DAGs run in the Airflow UI without Docker.
#
# Runs `airflow standalone` (api-server, scheduler, dag-processor, triggerer; SQLite metadata) with
# AIRFLOW_HOME under the data dir, the repository's dags/ folder, and the local Elasticsearch node
# (`make airflow` starts it first; its credentials are found under the data dir). By default the crawl
# DAGs crawl the bundled sample sites, served on 127.0.0.1 by `python -m mediamon.devtools.mirror`; set
# MEDIAMON_AIRFLOW_REAL_SITES=1 to crawl the real sites instead. Stop with Ctrl-C.
#   UI: http://127.0.0.1:${AIRFLOW_PORT:-8080}  user `admin`, password printed at start and kept in
#   $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
PY="${VENV:-$REPO/.venv}/bin"
export PATH="$PY:$PATH"  # airflow standalone starts its components as `airflow ...`

export MEDIAMON_DATA_DIR="$(realpath -m "${MEDIAMON_DATA_DIR:-$REPO/.mediamon}")"
export MEDIAMON_CONFIG_DIR="${MEDIAMON_CONFIG_DIR:-$REPO/config}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$MEDIAMON_DATA_DIR/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}"
export AIRFLOW__API__PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW__API__PORT/execution/"
# A few tasks at a time: standalone keeps its metadata in SQLite, which serialises writers.
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
# Crawl retries in minutes, not the production defaults, so a failure is visible while you watch.
export MEDIAMON_CRAWL_RETRY_DELAY_S="${MEDIAMON_CRAWL_RETRY_DELAY_S:-30}"
mkdir -p "$AIRFLOW_HOME"

"$PY/mediamon" es status >/dev/null || { echo "local Elasticsearch is not running: make es-start" >&2; exit 1; }
"$PY/mediamon" setup

mirror_pid=""
cleanup() { if [ -n "$mirror_pid" ]; then kill "$mirror_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM
if [ "${MEDIAMON_AIRFLOW_REAL_SITES:-0}" != 1 ]; then
  port="${MEDIAMON_MIRROR_PORT:-8800}"
  "$PY/python" -m mediamon.devtools.mirror --port "$port" > "$AIRFLOW_HOME/mirror.out" 2>&1 &
  mirror_pid=$!
  for _ in $(seq 50); do
    grep -q '^MEDIAMON_URL_REWRITE=' "$AIRFLOW_HOME/mirror.out" && break
    kill -0 "$mirror_pid" 2>/dev/null || { cat "$AIRFLOW_HOME/mirror.out" >&2; exit 1; }
    sleep 0.2
  done
  MEDIAMON_URL_REWRITE="$(sed -n 's/^MEDIAMON_URL_REWRITE=//p' "$AIRFLOW_HOME/mirror.out")"
  export MEDIAMON_URL_REWRITE
  echo "sample sites on http://127.0.0.1:$port (MEDIAMON_AIRFLOW_REAL_SITES=1 crawls the real sites)"
fi

echo "Airflow UI on http://127.0.0.1:$AIRFLOW__API__PORT (AIRFLOW_HOME=$AIRFLOW_HOME)"
"$PY/airflow" standalone
