// Micro-benchmark of the domain (not a timed test). After `npm run build`:
//   node dist/scripts/bench/domain-bench.js [purchases=1000000] [members=100000]
// Measures decide + evolve for RecordPurchase on one core, and the serialised size
// of a member state after a year of weekly purchases.

import {
  DEFAULT_PROGRAMME,
  MemberCommand,
  MemberState,
  compact,
  decide,
  evolve,
  evolveAll,
  initialState,
  serializeState,
  validatePurchaseMessage,
} from '@loyalty/domain';

const N = Number(process.argv[2] ?? 1_000_000);
const MEMBERS = Number(process.argv[3] ?? 100_000);
const BASE = Date.parse('2025-03-01T00:00:00Z');

function purchase(memberId: string, i: number, at: string): MemberCommand {
  return {
    type: 'RecordPurchase',
    data: { memberId, purchaseId: `pos-${i}`, amount: 1_000 + (i % 9_000), currency: 'USD', occurredAt: at, channel: 'store' },
    metadata: { commandId: `c-${i}`, now: at, correlationId: `c-${i}` },
  };
}

function benchDecideEvolve(batch: boolean): number {
  // MEMBERS members, N purchases round-robin over ~30 days (10 each by default): the
  // ledger's steady state. Commands are built in chunks outside the timed region, so
  // the figure is decide + evolve (and the state map) only.
  const states = new Map<string, MemberState>();
  for (let m = 0; m < MEMBERS; m++) states.set(`m-${m}`, initialState(`m-${m}`));
  const CHUNK = 10_000;
  const chunk: MemberCommand[] = new Array(CHUNK);
  let events = 0;
  let ns = 0n;
  for (let from = 0; from < N; from += CHUNK) {
    const n = Math.min(CHUNK, N - from);
    for (let j = 0; j < n; j++) {
      const i = from + j;
      const at = new Date(BASE + Math.floor((i / N) * 30 * 86_400_000)).toISOString();
      chunk[j] = purchase(`m-${i % MEMBERS}`, i, at);
    }
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < n; j++) {
      const c = chunk[j];
      const id = c.data.memberId;
      let s = states.get(id) as MemberState;
      const d = decide(c, s, DEFAULT_PROGRAMME);
      if (!d.ok) throw new Error(d.rejection.code);
      if (batch) s = evolveAll(s, d.events);
      else for (const e of d.events) s = evolve(s, e);
      events += d.events.length;
      states.set(id, s);
    }
    ns += process.hrtime.bigint() - t0;
  }
  const secs = Number(ns) / 1e9;
  const rate = N / secs;
  console.log(
    `decide+${batch ? 'evolveAll' : 'evolve (per event)'} RecordPurchase: ${N} purchases (${events} events, ${MEMBERS} members, first purchase auto-enrols) in ${secs.toFixed(2)} s = ${Math.round(rate).toLocaleString('en')} purchases/s`,
  );
  return rate;
}

function benchSingleMemberYear(): void {
  // one member, a purchase every week for a year; the state the ledger would store
  let s = initialState('member-000123');
  const run = (c: MemberCommand) => {
    const d = decide(c, s, DEFAULT_PROGRAMME);
    if (!d.ok) throw new Error(d.rejection.code);
    for (const e of d.events) s = evolve(s, e);
  };
  const start = Date.parse('2025-01-06T17:00:00Z');
  for (let w = 0; w < 52; w++) {
    const at = new Date(start + w * 7 * 86_400_000).toISOString();
    run(purchase('member-000123', 100_000 + w, at));
    if (w % 13 === 12) {
      run({ type: 'RedeemPoints', data: { memberId: 'member-000123', idempotencyKey: `k-${w}`, rewardId: 'coffee' }, metadata: { commandId: `r-${w}`, now: at, correlationId: 'x' } });
    }
  }
  const end = new Date(start + 52 * 7 * 86_400_000).toISOString();
  const json = serializeState(compact(s, DEFAULT_PROGRAMME, end));
  console.log(`member state after a year of weekly purchases (4 redemptions): ${Buffer.byteLength(json)} bytes serialised, ${s.lots.length} lots, ${compact(s, DEFAULT_PROGRAMME, end).purchases.length} open purchases`);
}

function benchValidate(): void {
  const msg = Buffer.from(
    JSON.stringify({ purchaseId: 'pos-123456', memberId: 'member-000123', amount: 12_345, currency: 'USD', occurredAt: '2025-03-10T10:00:00+02:00', channel: 'store', storeId: 's-1' }),
  );
  const meta = { commandId: 'c', now: '2025-03-10T10:00:00Z', correlationId: 'c' };
  const n = 500_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (!validatePurchaseMessage(msg, meta).ok) throw new Error('invalid');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`validatePurchaseMessage (Buffer, parse + validate): ${Math.round(n / secs).toLocaleString('en')} messages/s`);
}

benchDecideEvolve(true);
benchDecideEvolve(false);
benchSingleMemberYear();
benchValidate();
