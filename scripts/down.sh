#!/usr/bin/env bash
# Stops what demo.sh started: the apps (SIGTERM, then SIGKILL), then the infrastructure it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for app in api projector ledger; do
  pidfile="$RUN_DIR/$app.pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then log "$app: did not stop in 10 s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    log "$app: stopped"
  fi
  rm -f "$pidfile"
done
"$ROOT/scripts/infra.sh" down
