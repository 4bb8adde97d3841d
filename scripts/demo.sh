#!/usr/bin/env bash
# The whole ledger on this machine, with sample traffic:
# infra up (Kafka, Postgres, Redis, topics, migrations), all apps, a realistic stream of
# purchases, then balances, a leaderboard and analytics from the real read models.
# The API is left serving. Stop everything with ./scripts/down.sh (or ./scripts/demo.sh --down).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

if [ "${1:-}" = "--down" ]; then exec "$ROOT/scripts/down.sh"; fi

PURCHASES="${DEMO_PURCHASES:-5000}"
MEMBERS="${DEMO_MEMBERS:-1000}"
export LOYALTY_BOOTSTRAP_API_KEY="${LOYALTY_BOOTSTRAP_API_KEY:-demo-admin-key}"
export PORT="${PORT:-3000}" HOST="${HOST:-127.0.0.1}"
export LOG_FORMAT="${LOG_FORMAT:-json}"
API="http://$HOST:$PORT"
mkdir -p "$RUN_DIR/logs"

"$ROOT/scripts/infra.sh" up

start_app() {
  local app="$1" pidfile="$RUN_DIR/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "$app: already running (pid $(cat "$pidfile"))"; return
  fi
  # The pipeline in sessions of its own: its PIPELINE_NICE then ranks it below the API's
  # session as well, where the kernel schedules by session (lowerSessionPriority).
  local session=()
  if [ "$app" != api ] && command -v setsid >/dev/null; then session=(setsid); fi
  # shellcheck disable=SC2046 # the app's V8 flags, one word each
  "${session[@]}" nohup node $(node -p "require('./dist/libs/config/src/node-flags').nodeFlagsFor('$app').join(' ')") "dist/apps/$app/main.js" >"$RUN_DIR/logs/$app.log" 2>&1 &
  echo $! >"$pidfile"
  log "$app: started (pid $!, log .run/logs/$app.log)"
}
start_app ledger
start_app projector
start_app api

for _ in $(seq 1 120); do
  curl -fsS "$API/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$API/health" >/dev/null || die "the API did not become healthy; see .run/logs/api.log"
log "API healthy at $API"

SEED="${DEMO_SEED:-$(date +%s)}"
log "publishing $PURCHASES purchases for $MEMBERS members (seed $SEED)"
node dist/scripts/traffic/publish.js --purchases "$PURCHASES" --members "$MEMBERS" --seed "$SEED"

log "waiting until every stage has caught up"
node dist/apps/ops/main.js lag --wait 180 --summary || log "WARNING: not every stage caught up within 180 s; figures below may be partial"

auth=(-H "authorization: Bearer $LOYALTY_BOOTSTRAP_API_KEY")
top=$(curl -fsS "${auth[@]}" "$API/v1/leaderboards/points?period=all&limit=5")
echo
echo "== Leaderboard: points earned (all time), top 5"
echo "$top" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));for(const e of Array.isArray(r)?r:r.entries)console.log(`  #${e.rank} ${e.memberId.padEnd(16)} ${e.score}`)'
echo
echo "== Redemptions through the API (voucher-10 for each of the top 3, with an Idempotency-Key)"
for m in $(echo "$top" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log((Array.isArray(r)?r:r.entries).slice(0,3).map(e=>e.memberId).join(" "))'); do
  curl -sS "${auth[@]}" -H 'content-type: application/json' -H "idempotency-key: demo-$SEED-$m" \
    -d '{"rewardId":"voucher-10"}' "$API/v1/members/$m/redemptions" | sed 's/^/  '"$m"': /'
  echo
done
node dist/apps/ops/main.js lag --wait 30 >/dev/null || true
echo
echo "== Balances of the top members"
for m in $(echo "$top" | node -e 'const r=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log((Array.isArray(r)?r:r.entries).map(e=>e.memberId).join(" "))'); do
  curl -fsS "${auth[@]}" "$API/v1/members/$m/balance" | node -e 'const b=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(`  ${b.memberId.padEnd(16)} available ${String(b.available).padStart(6)}  earned ${String(b.lifetimeEarned).padStart(6)}  tier ${b.tier}`)'
done
echo
echo "== Analytics"
curl -fsS "${auth[@]}" "$API/v1/analytics/summary" | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log("  "+Object.entries(s).map(([k,v])=>`${k}=${typeof v==="object"?JSON.stringify(v):v}`).join("  "))'
curl -fsS "${auth[@]}" "$API/v1/analytics/tiers" | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log("  tiers: "+(s.tiers??s).map(t=>`${t.tier}=${t.members}`).join(" "))'
curl -fsS "${auth[@]}" "$API/v1/analytics/channels" | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log("  channels (net revenue, share, average basket): "+s.map(c=>`${c.channel??"none"}=${c.netRevenue} (${(c.revenueShare*100).toFixed(1)} %, ${c.avgNetBasket})`).join("  "))'
echo
echo "The API is serving at $API  (key: Authorization: Bearer $LOYALTY_BOOTSTRAP_API_KEY)"
echo "  try: curl -H 'authorization: Bearer $LOYALTY_BOOTSTRAP_API_KEY' $API/v1/members/member-000000/balance"
echo "Stop everything with ./scripts/down.sh"
