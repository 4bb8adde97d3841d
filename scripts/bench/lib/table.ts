// The bench table (markdown), each stage beside its ceiling measured in the same run.
import { fmt } from './util';

/* eslint-disable @typescript-eslint/no-explicit-any */
export function renderTable(r: any): string {
  const k = r.kafkaCeiling ?? {};
  const st = r.stages ?? {};
  const ratio = (a?: number, b?: number) => (a && b ? `${Math.round((100 * a) / b)} %` : '–');
  const rows: string[][] = [];
  const row = (what: string, measured: string, ceiling: string, ratioS: string, target: string) => rows.push([what, measured, ceiling, ratioS, target]);

  if (r.commandSide) {
    const c = r.commandSide;
    row(`Command side, purchases/s (loyalty.purchases → committed events; ingest+ledger in ${c.processes} process(es), no projectors; from their spawn)`, fmt(c.purchasesPerSec), `${c.steadyPurchasesPerSec === undefined ? '' : `${fmt(c.steadyPurchasesPerSec)}/s from their first output (start-up and group join took ${fmt(c.startupMs / 1000, 1)} s); `}CPU per message: ${fmt(c.cpuMicrosPerMessage)} µs in the ledger app(s), ${fmt(c.brokerCpuMicrosPerMessage)} µs in the broker${c.brokers > 1 ? ` (${c.brokers} brokers on the machine)` : ''}`, '', '≥ 20,000');
  }
  if (r.e2e) {
    row('End-to-end, purchases/s (first publish → lag 0 in Postgres and Redis)', fmt(r.e2e.purchasesPerSec), `${fmt(k.produceConsumeMsgsPerSec)} msgs/s kafkajs produce+consume`, ratio(r.e2e.messagesPerSec, k.produceConsumeMsgsPerSec), '≥ 20,000 and ≥ 50 %');
    row('End-to-end, ledger events/s', fmt(r.e2e.eventsPerSec), '', '', '');
  }
  for (const l of r.latency ?? []) {
    row(
      `Publish → visible balance at ${fmt(l.offeredRate)}/s offered (${fmt(l.achievedRate)} achieved), ms p50 / p99 (Redis; Postgres; both)`,
      `${fmt(l.redis.p50)} / ${fmt(l.redis.p99)}; ${fmt(l.postgres.p50)} / ${fmt(l.postgres.p99)}; ${fmt(l.both.p50)} / ${fmt(l.both.p99)}`,
      `${l.samples} samples, ${l.lost} not seen`,
      '',
      l.offeredRate === 10000 ? 'p99 < 150 ms at 10,000/s' : '(reduced rate)',
    );
  }
  for (const [tag, h] of Object.entries((r.latencyHops ?? {}) as Record<string, any>)) {
    if (!h?.ingest) continue;
    row(`… hops at ${fmt(Number(tag))}/s, ms p50 / p99: publish→command (ingest); command→event (ledger); event→visible (Redis; Postgres)`, `${fmt(h.ingest.p50)} / ${fmt(h.ingest.p99)}; ${fmt(h.ledger.p50)} / ${fmt(h.ledger.p99)}; ${fmt(h.redisProjector.p50)} / ${fmt(h.redisProjector.p99)}; ${fmt(h.postgresProjector.p50)} / ${fmt(h.postgresProjector.p99)}`, 'from Kafka CreateTime stamps', '', '');
  }
  if (st.ingest) row('Ingest alone, messages/s', fmt(st.ingest.msgsPerSec), `${fmt(k.txPipeMsgsPerSec)} tx pipe / ${fmt(k.pipeMsgsPerSec)} plain pipe / ${fmt(r.jsonCeiling?.purchasesPerSec)} validate+encode${cpuPer(st.ingest, st.ingest.messages, 'message')}`, ratio(st.ingest.msgsPerSec, k.pipeMsgsPerSec), '≥ 20,000');
  if (st.ledger) {
    row('Ledger alone, commands/s', fmt(st.ledger.commandsPerSec), `${fmt(k.txPipeMsgsPerSec)} tx pipe / ${fmt(k.pipeMsgsPerSec)} plain pipe / ${fmt(r.domain?.decideEvolvePerSec)} decide+evolve (${fmt(r.domain?.decideEvolveBuiltAheadPerSec)} with commands built ahead)${cpuPer(st.ledger, st.ledger.commands, 'command')}`, ratio(st.ledger.commandsPerSec, k.pipeMsgsPerSec), '≥ 20,000 purchases/s');
    row('Ledger alone, events/s', fmt(st.ledger.eventsPerSec), '', '', '');
  }
  if (st.postgres) row('Postgres projector alone, events/s', fmt(st.postgres.eventsPerSec), `${fmt(r.postgresCeiling?.eventsPerSec)} COPY of the same rows${cpuPer(st.postgres, st.postgres.events, 'event')}`, ratio(st.postgres.eventsPerSec, r.postgresCeiling?.eventsPerSec), '≥ 30,000');
  if (st.redis) row('Redis projector alone, events/s', fmt(st.redis.eventsPerSec), `${fmt(r.redisCeiling?.eventsPerSec)} pipelined writes of the same keys${cpuPer(st.redis, st.redis.events, 'event')}`, ratio(st.redis.eventsPerSec, r.redisCeiling?.eventsPerSec), '≥ 100,000');
  if (r.jsonCeiling) row('JSON decode+upcast+check+encode of the same events, events/s (1 core)', fmt(r.jsonCeiling.eventsPerSec), '', '', '');
  if (r.kafkaCeiling) row('kafkajs alone: produce / consume / produce+consume, msgs/s', `${fmt(k.produceMsgsPerSec)} / ${fmt(k.consumeMsgsPerSec)} / ${fmt(k.produceConsumeMsgsPerSec)}`, '', '', '');
  for (const h of r.http?.runs ?? []) {
    const target = h.name === 'balance' || h.name === 'leaderboard' ? 'p99 < 5 ms at 2,000/s' : h.name === 'redemption' ? 'p99 < 50 ms at 200/s' : '';
    if (!h.available) row(`HTTP ${h.name}`, 'not yet available', '', '', target);
    else row(`HTTP ${h.name} at ${fmt(h.rate)}/s (ingest ${fmt(r.http.ingestRate)}/s${r.options?.pipelineNice === undefined ? '' : `, pipeline at nice ${r.options.pipelineNice}${r.options.ledgerNice === undefined || r.options.ledgerNice === r.options.pipelineNice ? '' : ` (ledger ${r.options.ledgerNice})`}`}), ms p50 / p99 from each request's due time`, `${fmt(h.p50, h.p99 < 100 ? 1 : 0)} / ${fmt(h.p99, h.p99 < 100 ? 1 : 0)}`, `${h.serviceP99 === undefined ? '' : `from the write: ${fmt(h.serviceP50, 1)} / ${fmt(h.serviceP99, 1)} ms; `}${fmt(h.achievedRps)}/s achieved, non-2xx ${h.non2xx}, errors ${h.errors}${h.apiCpuUsPerRequest === undefined ? '' : `, API ${fmt(h.apiCpuUsPerRequest)} µs CPU/request`}${h.redisProbe === undefined ? '' : `; meanwhile a bare Redis GET from another process: p50 ${fmt(h.redisProbe.p50, 2)} / p99 ${fmt(h.redisProbe.p99, 1)} ms`}`, '', target);
  }
  const mem = st.ledger?.restore?.memory ?? st.ledger?.memory;
  if (mem) row('Ledger RSS / members held, per 1,000,000 (after restore, after GC); marginal = (RSS − empty process) / members', `${fmt(mem.rssPerMillionMembers / 2 ** 20)} MiB; marginal ${fmt(mem.marginalRssPerMillionMembers / 2 ** 20)} MiB`, `${fmt(mem.members)} members, RSS ${fmt(mem.rssAfterGc / 2 ** 20)} MiB, empty ${fmt(mem.emptyProcessRss / 2 ** 20)} MiB, heap+external ${fmt(mem.marginalHeapPerMember)} B/member`, '', '< 1 GiB');
  if (st.ledger?.memory) row('Ledger RSS per 1,000,000 members (right after processing, after GC)', `${fmt(st.ledger.memory.rssPerMillionMembers / 2 ** 20)} MiB`, `${fmt(st.ledger.memory.members)} members`, '', '');
  if (st.ledger?.restore) row('Ledger state restore (all partitions)', `${fmt(st.ledger.restore.ms / 1000, 1)} s`, `${fmt(st.ledger.restore.records)} records`, '', '');
  if (r.e2e) row('Ledger app RSS after end-to-end (ingest+ledger process)', `${fmt(r.e2e.ledgerRss / 2 ** 20)} MiB`, `${fmt(r.e2e.members)} members`, '', '');

  const head = ['what', 'measured', 'ceiling / context', 'ratio', 'target'];
  const out = [
    `commit ${r.commit?.slice(0, 12)} (${r.source})${r.dirty ? ' (+ uncommitted changes in apps/libs)' : ''} · ${r.machine.nproc} cores ${r.machine.cpuModel} · ${fmt(r.machine.memoryBytes / 2 ** 30, 1)} GiB · node ${r.machine.node}`,
    `${fmt(r.options.purchases)} purchases, ${fmt(r.traffic?.messages)} messages (${r.traffic?.refund} refunds, ${r.traffic?.duplicate} duplicates, ${r.traffic?.malformed} malformed), ${fmt(r.traffic?.distinctMembers)} members, ${r.options.partitions} partitions`,
    `load average (1/5/15 min) at start ${r.loadAverages?.start?.join(' / ') ?? '?'}, at the end ${(Object.values(r.loadAverages ?? {}).pop() as number[] | undefined)?.join(' / ') ?? '?'} (a shared machine: other processes ran too)`,
    '',
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((c) => `| ${c.join(' | ')} |`),
  ];
  return out.join('\n');
}

/** `; CPU per <unit>: N µs app, M µs <server>` of a stage run, from ready to done. */
function cpuPer(stage: { cpuFromReady?: { app: number; server: number; serverName: string } }, units: number, unit: string): string {
  const c = stage.cpuFromReady;
  if (!c || !units) return '';
  const us = (s: number) => fmt((s * 1e6) / units);
  return `; CPU per ${unit}: ${us(c.app)} µs app${Number.isFinite(c.server) ? `, ${us(c.server)} µs ${c.serverName}` : ''}`;
}
