#!/usr/bin/env bash
# `make airflow`: watch the mediamon DAGs run in the Airflow UI without Docker.
#
# Runs `airflow standalone` (api-server, scheduler, dag-processor, triggerer; SQLite metadata) with
# AIRFLOW_HOME under the data dir, the repository's dags/ folder, and the local Elasticsearch node
# (`make airflow` starts it first; its credentials are found under the data dir). By default the crawl
# DAGs crawl the bundled sample sites, served on 127.0.0.1 by `python -m mediamon.devtools.mirror`; set
# MEDIAMON_AIRFLOW_REAL_SITES=1 to crawl the real sites instead. On the sample sites alerts and the freshness check
# judge the 2021 articles as of the newest one (MEDIAMON_AS_OF=newest-document), not the wall clock.
# Stop with Ctrl-C: `airflow standalone` ignores SIGINT, so it runs in its own session, and Ctrl-C (or SIGTERM)
# sends SIGTERM to every process of that session and their descendants, then SIGKILL to what is left after
# AIRFLOW_STOP_GRACE_S seconds (default 20); nothing is left running.
#   UI: http://127.0.0.1:${AIRFLOW_PORT:-8080}  user `admin`, password printed at start and kept in
#   $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated
# The mediamon DAGs are paused until the API server answers (a task started before it fails: it reports to
# the API's execution endpoint), then unpaused; AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True leaves them paused.
# Sourcing this file (tests) defines its functions without running anything.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${VENV:-$REPO/.venv}/bin"

# The sample sites never change: once crawled (`make demo`, an earlier `make airflow`), the crawl state
# remembers every article, the crawl DAGs find nothing new, and processing and alerts never run.
crawl_state_note() {  # DATA_DIR
  [ -n "$(ls -A "$1/crawl-state" 2>/dev/null)" ] || return 0
  cat <<NOTE
note: $1/crawl-state already holds the sample sites' articles (from \`make demo\` or an earlier
      \`make airflow\`): the crawl DAGs will find nothing new, so processing and alerts will not run.
      To see the whole pipeline run: make clean && make airflow  (stops the local Elasticsearch, deletes $1)
NOTE
}

wait_for_api() {  # URL TIMEOUT_S: 0 once URL answers 2xx, 1 after TIMEOUT_S seconds without (one probe a second)
  local deadline=$((SECONDS + $2))
  until "$PY/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

pause_mediamon_dags() {  # the DAGs parsed into the metadata DB (paused if new), then every mediamon DAG paused
  for step in "db migrate" "dags reserialize"; do  # $step unquoted: two words, the subcommand
    "$PY/airflow" $step > "$AIRFLOW_HOME/prepare.log" 2>&1 || { cat "$AIRFLOW_HOME/prepare.log" >&2; return 1; }
  done
  "$PY/airflow" dags pause --treat-dag-id-as-regex -y '^mediamon_' >/dev/null 2>&1 || true  # none unpaused: fine
}

unpause_when_up() {  # in the background while `airflow standalone` runs
  local health="http://127.0.0.1:$AIRFLOW__API__PORT/api/v2/monitor/health" wait_s="${AIRFLOW_API_WAIT_S:-300}"
  if wait_for_api "$health" "$wait_s"; then
    "$PY/airflow" dags unpause --treat-dag-id-as-regex -y '^mediamon_' >/dev/null 2>&1 \
      && echo "make airflow: the API server answers; mediamon DAGs unpaused" \
      || echo "make airflow: could not unpause the mediamon DAGs; unpause them in the UI" >&2
  else
    echo "make airflow: the API server did not answer $health within $wait_s s; the DAGs stay paused" >&2
  fi
}

session_pids() {  # SID: every live (non-zombie) process of that session
  ps -e -o pid=,sid=,stat= | awk -v sid="$1" '$2 == sid && $3 !~ /^Z/ {print $1}'
}

descendants() {  # PID: its children, grandchildren, ... (a process that left the session is still found)
  local child
  for child in $(ps -o pid= --ppid "$1"); do
    echo "$child"
    descendants "$child"
  done
}

alive() {  # PID...: those still running (a zombie waiting to be reaped is not)
  [ $# -gt 0 ] || return 0
  ps -o pid=,stat= -p "$(IFS=,; echo "$*")" | awk '$2 !~ /^Z/ {print $1}'
}

stop_session() {  # SID GRACE_S: SIGTERM to the session and its descendants, SIGKILL after GRACE_S; returns when none is left
  local deadline=$((SECONDS + $2)) pids
  pids="$(session_pids "$1"; descendants "$1")"
  while [ -n "$(alive $pids)" ]; do
    kill -TERM $(alive $pids) 2>/dev/null || true
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL $(alive $pids) 2>/dev/null || true
      sleep 0.2
    else
      sleep 0.5
    fi
    pids="$(alive $pids) $(session_pids "$1")"  # processes started while stopping (a task launched) too
  done
}

supervise() {  # CMD...: run CMD in a session of its own until it exits; Ctrl-C or SIGTERM stop it and all it started
  setsid "$@" &
  supervised_pid=$!
  local status=0
  wait "$supervised_pid" || status=$?
  supervised_pid=""
  return "$status"
}

stop_all() {  # the EXIT trap: the supervised session, the mirror and the unpause watcher
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  if [ -n "${supervised_pid:-}" ]; then
    echo "stopping $1 (session $supervised_pid) ..." >&2
    stop_session "$supervised_pid" "${AIRFLOW_STOP_GRACE_S:-20}"
    wait "$supervised_pid" 2>/dev/null || true
    echo "stopped" >&2
  fi
  for pid in ${mirror_pid:-} ${unpause_pid:-}; do kill "$pid" 2>/dev/null || true; done
}

stop_on_exit() {  # NAME: when the script exits — normally, on Ctrl-C or on SIGTERM — stop_all NAME
  trap "stop_all '$1'" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

main() {
  cd "$REPO"
  export PATH="$PY:$PATH"  # airflow standalone starts its components as `airflow ...`
  export MEDIAMON_DATA_DIR="$(realpath -m "${MEDIAMON_DATA_DIR:-$REPO/.mediamon}")"
  export MEDIAMON_CONFIG_DIR="${MEDIAMON_CONFIG_DIR:-$REPO/config}"
  export AIRFLOW_HOME="${AIRFLOW_HOME:-$MEDIAMON_DATA_DIR/airflow}"
  export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  local unpause=0
  if [ "${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}" = False ]; then unpause=1; fi
  export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=True
  export AIRFLOW__API__PORT="${AIRFLOW_PORT:-8080}"
  export AIRFLOW__API__HOST=127.0.0.1
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$AIRFLOW__API__PORT/execution/"
  # A few tasks at a time: standalone keeps its metadata in SQLite, which serialises writers.
  export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-4}"
  # Crawl retries in minutes, not the production defaults, so a failure is visible while you watch.
  export MEDIAMON_CRAWL_RETRY_DELAY_S="${MEDIAMON_CRAWL_RETRY_DELAY_S:-30}"
  mkdir -p "$AIRFLOW_HOME"

  "$PY/mediamon" es status >/dev/null || { echo "local Elasticsearch is not running: make es-start" >&2; exit 1; }
  # the 2021 sample is judged as of its newest article, not today (alerts, freshness, the Kibana dashboard's range)
  if [ "${MEDIAMON_AIRFLOW_REAL_SITES:-0}" != 1 ]; then export MEDIAMON_AS_OF=newest-document; fi
  "$PY/mediamon" setup

  mirror_pid="" unpause_pid="" supervised_pid=""
  stop_on_exit "airflow standalone"
  if [ "${MEDIAMON_AIRFLOW_REAL_SITES:-0}" != 1 ]; then
    local port="${MEDIAMON_MIRROR_PORT:-8800}"
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
    crawl_state_note "$MEDIAMON_DATA_DIR"
  fi

  echo "make airflow: parsing the DAGs (mediamon DAGs paused until the API server answers) ..."
  pause_mediamon_dags
  if [ "$unpause" = 1 ]; then
    unpause_when_up &
    unpause_pid=$!
  fi
  echo "Airflow UI on http://127.0.0.1:$AIRFLOW__API__PORT (AIRFLOW_HOME=$AIRFLOW_HOME)"
  supervise "$PY/airflow" standalone
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
