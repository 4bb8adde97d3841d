#!/usr/bin/env bash
# Infrastructure for the ledger: Kafka (from the Maven Central jars), Postgres and Redis,
# then the topics and the migrations. `up` uses servers that already answer and starts
# the local ones that do not; `down` stops only what it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_HOST=127.0.0.1 PG_PORT=5432
REDIS_HOST=127.0.0.1 REDIS_PORT=6379
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/loyalty}"

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

start_postgres() {
  if pg_up; then log "postgres: answering on $PG_HOST:$PG_PORT"; return; fi
  log "postgres: not answering, starting the local cluster"
  command -v pg_ctlcluster >/dev/null || die "postgres is not running and pg_ctlcluster is not installed"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  touch "$RUN_DIR/started-postgres"
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || die "postgres did not come up"
}

start_redis() {
  if redis_up; then log "redis: answering on $REDIS_HOST:$REDIS_PORT"; return; fi
  log "redis: not answering, starting a local server"
  command -v redis-server >/dev/null || die "redis is not running and redis-server is not installed"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  touch "$RUN_DIR/started-redis"
  for _ in $(seq 1 40); do redis_up && break; sleep 0.25; done
  redis_up || die "redis did not come up"
}

local_url() { [[ "$1" == *"@127.0.0.1"* || "$1" == *"@localhost"* || "$1" == *"//127.0.0.1"* || "$1" == *"//localhost"* ]]; }

cmd_up() {
  local_url "$DATABASE_URL" && start_postgres
  local_url "${REDIS_URL:-redis://127.0.0.1:6379/0}" && start_redis
  if [[ "${KAFKA_BROKERS:-127.0.0.1:9092}" == 127.0.0.1:* || "${KAFKA_BROKERS:-}" == localhost:* ]]; then
    "$ROOT/scripts/kafka.sh" up
  fi
  [ "${SKIP_BUILD:-0}" = 1 ] || ensure_build
  log "topics and migrations"
  (cd "$ROOT" && node dist/apps/ops/main.js topics && node dist/apps/ops/main.js migrate)
  log "infrastructure is up"
}

cmd_down() {
  "$ROOT/scripts/kafka.sh" down || true
  if [ -f "$RUN_DIR/started-redis" ]; then
    log "redis: stopping the server this script started"
    redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$RUN_DIR/started-redis"
  fi
  if [ -f "$RUN_DIR/started-postgres" ]; then
    log "postgres: stopping the cluster this script started"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main stop || true
    rm -f "$RUN_DIR/started-postgres"
  fi
}

cmd_status() {
  if pg_up; then echo "postgres: up ($PG_HOST:$PG_PORT)"; else echo "postgres: down"; fi
  if redis_up; then echo "redis: up ($REDIS_HOST:$REDIS_PORT)"; else echo "redis: down"; fi
  "$ROOT/scripts/kafka.sh" status || true
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
