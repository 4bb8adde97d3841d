#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) for development, scripts and integration tests.
# Runs the broker straight from the Maven Central jars; no Docker, no Kafka download site.
#
#   scripts/kafka.sh up       fetch the jars if needed, format storage on first start,
#                             start the broker in the background, wait until it answers
#   scripts/kafka.sh down     stop the broker this script started (TERM, then KILL)
#   scripts/kafka.sh status   print running/stopped (exit 0 running, 3 stopped)
#   scripts/kafka.sh wait     wait until the broker answers (exit 1 on timeout)
#   scripts/kafka.sh fetch    only fetch the jars into .cache/kafka/<version>/libs
#   scripts/kafka.sh reset    down, then delete the data dir (topics, offsets, cluster id)
#
# Environment (all optional):
#   KAFKA_PORT=9092              client listener (PLAINTEXT://127.0.0.1:$KAFKA_PORT)
#   KAFKA_CONTROLLER_PORT=9093   KRaft controller listener (clients never use it)
#   KAFKA_DATA_DIR=.data/kafka   data, rendered server.properties and logs; relative to the repo root
#   KAFKA_HEAP_OPTS="-Xms256m -Xmx768m"   KAFKA_JVM_OPTS=""   (extra JVM flags)
#   KAFKA_START_TIMEOUT=90       seconds `up`/`wait` wait for readiness
#   KAFKA_STOP_TIMEOUT=30        seconds `down` waits after SIGTERM before SIGKILL
#   JAVA_HOME                    java from $JAVA_HOME/bin, else from PATH (Java 17+)
# A second broker for a test: KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 KAFKA_DATA_DIR=.data/kafka-19092
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INFRA="$ROOT/infra/kafka"
POM="$INFRA/pom.xml"

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
[[ -n "$KAFKA_VERSION" ]] || { echo "kafka.sh: no <kafka.version> in $POM" >&2; exit 1; }

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
DATA="${KAFKA_DATA_DIR:-.data/kafka}"
[[ "$DATA" = /* ]] || DATA="$ROOT/$DATA"
CACHE="$ROOT/.cache/kafka/$KAFKA_VERSION"
LIBS="$CACHE/libs"
MARKER="$CACHE/.complete"
RUN="$ROOT/.run"
PIDFILE="$RUN/kafka-$PORT.pid"
PROPS="$DATA/server.properties"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
ADDRESS="127.0.0.1:$PORT"

log() { echo "kafka.sh: $*" >&2; }
die() { log "$*"; exit 1; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then command -v java
  else die "java not found: install a JDK 17+ (apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
  fi
}

# Jars are fetched once per (version, pom content); the marker holds the pom's checksum.
pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

fetch() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.lock"
  flock 8
  if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(pom_sum)" ]]; then
    flock -u 8
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven 3.8+ (apt-get install maven)"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into ${LIBS#"$ROOT/"}"
  local t0=$SECONDS
  rm -rf "$LIBS" "$LIBS.tmp"
  # Output goes to a file (Debian's Maven 3.8 prints stray ANSI codes even with -q -B).
  mvn -B -q -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" >"$CACHE/mvn.log" 2>&1 \
    || { cat "$CACHE/mvn.log" >&2; die "mvn dependency:copy-dependencies failed (log: ${CACHE#"$ROOT/"}/mvn.log)"; }
  ls "$LIBS.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"
  mv "$LIBS.tmp" "$LIBS"
  pom_sum >"$MARKER"
  log "fetched $(ls "$LIBS" | wc -l) jars in $((SECONDS - t0))s"
  flock -u 8
}

# PIDs of java processes running kafka.Kafka with this data dir's server.properties.
our_pids() {
  local f pid cmd
  for f in /proc/[0-9]*/cmdline; do
    pid="${f#/proc/}"; pid="${pid%/cmdline}"
    cmd="$(tr '\0' ' ' <"$f" 2>/dev/null)" || continue
    [[ "$cmd" == *" kafka.Kafka $PROPS "* ]] && echo "$pid"
  done
  return 0
}

pid_is_ours() { [[ -n "${1:-}" && -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF " kafka.Kafka $PROPS "; }

current_pid() {
  local pid=""
  [[ -f "$PIDFILE" ]] && pid="$(cat "$PIDFILE")"
  if pid_is_ours "$pid"; then echo "$pid"; return 0; fi
  our_pids | head -n1
}

# Readiness: a Metadata round trip with kafkajs (infra/kafka/probe.js). Without node_modules,
# fall back to "the port accepts connections and the log says the server started".
# usage: probe TIMEOUT_SECONDS [PID]; returns 0 ready, 1 timeout, 2 process died
probe() {
  local timeout="$1" pid="${2:-}" rc=0
  if command -v node >/dev/null 2>&1; then
    node "$INFRA/probe.js" "$ADDRESS" "$timeout" $pid || rc=$?
    [[ $rc -ne 3 ]] && return $rc
  fi
  local deadline=$((SECONDS + timeout))
  while :; do
    [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null && return 2
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      if [[ -z "$pid" ]] || grep -q "Kafka Server started" "$DATA/server.log" 2>/dev/null; then return 0; fi
    fi
    ((SECONDS >= deadline)) && return 1
    sleep 0.25
  done
}

show_log_tail() {
  local f
  for f in "$DATA/server.log" "$DATA/kafka.out"; do
    [[ -s "$f" ]] || continue
    echo "----- last lines of ${f#"$ROOT/"} -----" >&2
    tail -n 40 "$f" >&2
  done
}

render_properties() {
  mkdir -p "$DATA/logs"
  local tmp="$PROPS.tmp"
  sed -e "s|@PORT@|$PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$DATA|g" \
    "$INFRA/server.properties.template" >"$tmp"
  mv "$tmp" "$PROPS"
}

java_opts() {
  # shellcheck disable=SC2206
  local heap=(${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}) extra=(${KAFKA_JVM_OPTS:-})
  printf '%s\n' "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$DATA" "-Dlog4j.configuration=file:$INFRA/log4j.properties" ${extra[@]+"${extra[@]}"}
}

format_storage() {
  [[ -f "$DATA/logs/meta.properties" ]] && return 0
  local id
  # A Kafka Uuid is 16 random bytes in URL-safe base64 without padding; avoid a leading '-'.
  id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  [[ "$id" == -* ]] && id="A${id:1}"
  log "formatting storage in ${DATA#"$ROOT/"}/logs (cluster id $id)"
  "$(java_bin)" -Xmx256m "-Dkafka.logs.dir=$DATA" "-Dlog4j.configuration=file:$INFRA/log4j.properties" \
    -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$PROPS" >"$DATA/format.out" 2>&1 \
    || { cat "$DATA/format.out" >&2; die "storage format failed"; }
}

cmd_up() {
  local t0=$SECONDS pid
  mkdir -p "$RUN"
  exec 9>"$RUN/kafka-$PORT.lock"
  flock 9
  pid="$(current_pid)"
  if [[ -z "$pid" ]] && probe 0; then
    log "a Kafka broker already answers on $ADDRESS (not started by this script); nothing to do"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    log "broker already started (pid $pid); waiting until it answers on $ADDRESS"
    cmd_wait
    return 0
  fi
  fetch
  render_properties
  format_storage
  local java opts
  java="$(java_bin)"
  mapfile -t opts < <(java_opts)
  : >"$DATA/kafka.out"
  (cd "$DATA" && exec setsid "$java" "${opts[@]}" -cp "$LIBS/*" kafka.Kafka "$PROPS" \
    >>"$DATA/kafka.out" 2>&1 </dev/null 8>&- 9>&-) &
  pid=$!
  echo "$pid" >"$PIDFILE"
  local rc=0
  probe "$START_TIMEOUT" "$pid" || rc=$?
  if [[ $rc -eq 0 ]]; then
    log "Kafka $KAFKA_VERSION up on $ADDRESS (pid $pid, data ${DATA#"$ROOT/"}) in $((SECONDS - t0))s"
    return 0
  fi
  if [[ $rc -eq 2 ]]; then
    log "the broker (pid $pid) exited during startup"
  else
    log "the broker did not answer on $ADDRESS within ${START_TIMEOUT}s; stopping it"
    stop_pid "$pid"
  fi
  rm -f "$PIDFILE"
  show_log_tail
  exit 1
}

stop_pid() {
  local pid="$1" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 4)); then
      log "pid $pid still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.25
    waited=$((waited + 1))
  done
}

cmd_down() {
  local pids pid
  mkdir -p "$RUN"
  pids="$( { [[ -f "$PIDFILE" ]] && pid_is_ours "$(cat "$PIDFILE")" && cat "$PIDFILE"; our_pids; } | sort -u)"
  if [[ -z "$pids" ]]; then
    rm -f "$PIDFILE"
    log "no broker started by this script for ${DATA#"$ROOT/"} (port $PORT); nothing to stop"
    return 0
  fi
  for pid in $pids; do
    log "stopping broker pid $pid"
    stop_pid "$pid"
  done
  rm -f "$PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid
  pid="$(current_pid)"
  if [[ -n "$pid" ]]; then
    if probe 0; then echo "running (pid $pid, $ADDRESS, Kafka $KAFKA_VERSION, data ${DATA#"$ROOT/"})"
    else echo "starting (pid $pid, not answering on $ADDRESS yet)"; fi
    return 0
  fi
  if probe 0; then
    echo "running (a broker not started by this script answers on $ADDRESS)"
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_wait() {
  local rc=0
  probe "$START_TIMEOUT" "$(current_pid)" || rc=$?
  case $rc in
    0) log "Kafka answers on $ADDRESS" ;;
    2) log "the broker exited"; show_log_tail; exit 1 ;;
    *) log "Kafka did not answer on $ADDRESS within ${START_TIMEOUT}s"; show_log_tail; exit 1 ;;
  esac
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  wait) cmd_wait ;;
  fetch) fetch; echo "$LIBS" ;;
  reset) cmd_down; rm -rf "$DATA"; log "deleted ${DATA#"$ROOT/"}" ;;
  *) echo "usage: $0 up|down|status|wait|fetch|reset" >&2; exit 2 ;;
esac
