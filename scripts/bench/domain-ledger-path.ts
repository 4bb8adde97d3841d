// Micro-benchmark of the domain work the ledger does per purchase, beyond domain-bench's
// decide + evolve of bare events: decide, toEnvelopes (event ids are SHA-1 name-based
// UUIDs), evolveAll over the envelopes, compact and serializeState (every touched member,
// every batch). After `npm run build`:
//   node dist/scripts/bench/domain-ledger-path.js [members=2000] [weeks=104]
// Members buy weekly (one command each per week, one `now` per week, as a batch shares
// one); the second half of the weeks is measured. No ExpirePoints runs, so lots keep
// growing (104 after two years): serialisation is heavier than with expiry.

import { DEFAULT_PROGRAMME, MemberCommand, MemberState, compact, decide, envelopeMetaFor, evolveAll, initialState, serializeState, toEnvelopes } from '@loyalty/domain';

const MEMBERS = Number(process.argv[2] ?? 2_000);
const WEEKS = Number(process.argv[3] ?? 104);
const START = Date.parse('2025-01-06T17:00:00Z');
const WEEK = 7 * 86_400_000;

const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const states: MemberState[] = Array.from({ length: MEMBERS }, (_, m) => initialState(`member-${m}`));
const spent = { decide: 0, toEnvelopes: 0, evolveAll: 0, compact: 0, serializeState: 0 };
let measured = 0;
let chars = 0;
for (let w = 0; w < WEEKS; w++) {
  const now = new Date(START + w * WEEK + 3_600_000).toISOString();
  const commands: MemberCommand[] = states.map((_s, m) => ({
    type: 'RecordPurchase',
    data: { memberId: `member-${m}`, purchaseId: `pos-${w}-${m}`, amount: 1_000 + ((w * 37 + m) % 9_000), currency: 'USD', occurredAt: new Date(START + w * WEEK + m * 1000).toISOString(), channel: 'store' },
    metadata: { commandId: `c-${w}-${m}`, now, correlationId: `c-${w}-${m}` },
  }));
  const timed = w >= WEEKS / 2;
  let t = cpu();
  const tick = (k: keyof typeof spent): void => {
    const t1 = cpu();
    if (timed) spent[k] += t1 - t;
    t = t1;
  };
  const decisions = commands.map((c, m) => decide(c, states[m], DEFAULT_PROGRAMME));
  tick('decide');
  const envelopes = decisions.map((d, m) => (d.ok ? toEnvelopes(`member-${m}`, states[m].sequence + 1, d.events, envelopeMetaFor(commands[m])) : []));
  tick('toEnvelopes');
  const after = envelopes.map((e, m) => evolveAll(states[m], e));
  tick('evolveAll');
  const compacted = after.map((s) => compact(s, DEFAULT_PROGRAMME, now));
  tick('compact');
  for (const s of compacted) chars += serializeState(s).length;
  tick('serializeState');
  for (let m = 0; m < MEMBERS; m++) states[m] = compacted[m];
  if (timed) measured += MEMBERS;
}
const ns = (us: number): string => `${Math.round((us * 1000) / measured).toLocaleString('en')} ns`;
const total = Object.values(spent).reduce((a, b) => a + b, 0);
console.log(
  `ledger domain path, CPU per purchase (${measured} purchases, ${MEMBERS} members, weeks ${WEEKS / 2 + 1}-${WEEKS}; ` +
    `${states[0].lots.length} lots and ${states[0].purchases.length} open purchases at the end, ${Math.round(chars / (MEMBERS * WEEKS))} chars a state on average): ` +
    Object.entries(spent)
      .map(([k, v]) => `${k} ${ns(v)}`)
      .join(', ') +
    `; total ${ns(total)}`,
);
