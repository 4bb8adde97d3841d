// loyalty replay against the real pipeline (ledger and projector running):
// - while purchases keep flowing: shadow built, verified, swapped; afterwards verify
//   passes and every event of the topic is in the ledger entries exactly once;
// - a second replay at the same time refuses; one killed with -9 resumes from the
//   shadow's own offsets;
// - after the Redis read model was flushed, a Redis replay rebuilds and swaps it.
import { readEvents } from '@loyalty/read-models';
import { createStack, eventually, type Stack } from '../support/stack';
import { publishTraffic, runOps, sleep, spawnOps, waitCaughtUp } from './support';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ partitions: 3 });
  await Promise.all([stack.start('ledger'), stack.start('projector')]);
  await publishTraffic(stack, { purchases: 3000, members: 300, seed: 7 });
  await waitCaughtUp(stack);
});

afterAll(async () => {
  await stack?.teardown();
});

async function topicEvents(): Promise<{ count: number; ids: Set<string> }> {
  const ids = new Set<string>();
  let count = 0;
  await readEvents({
    kafka: stack.kafka,
    topic: stack.topics.events,
    onBatch: (_p, events) => {
      count += events.length;
      for (const e of events) ids.add(e.envelope.eventId);
    },
  });
  return { count, ids };
}

async function schemas(pattern: string): Promise<string[]> {
  const { rows } = await stack.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname`, [pattern]);
  return rows.map((r) => r.nspname);
}

describe('loyalty replay', () => {
  it('given purchases flowing, when replayed, then the shadow is swapped in, verify passes and no event is missing or doubled', async () => {
    const flowing = publishTraffic(stack, { purchases: 3000, members: 300, seed: 8 });
    const r = await runOps(stack, ['replay']);
    await flowing;
    expect(r.stderr).toMatch(/shadow verified/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/postgres: schema loyalty_r\d+ is now loyalty/);
    expect(await schemas(`^loyalty_retired_`)).toHaveLength(1);
    expect(await schemas(`^loyalty_r[0-9]+$`)).toHaveLength(0);

    await waitCaughtUp(stack);
    const v = await runOps(stack, ['verify']);
    expect(v.stdout).toMatch(/no differences/);
    expect(v.code).toBe(0);

    const { count, ids } = await topicEvents();
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM loyalty.ledger_entries`);
    expect(ids.size).toBe(count);
    expect(rows[0]).toEqual({ n: count, d: count });
  });

  it('given a replay running, a second one refuses; killed with -9, the replay resumes from the shadow and swaps', async () => {
    const slow = spawnOps(stack, ['replay', '--batch-events', '100', '--throttle-ms', '150']);
    // Wait until its Postgres shadow holds some, not all, of the events.
    const progress = await eventually(
      async () => {
        const [shadow] = await schemas(`^loyalty_r[0-9]+$`);
        if (!shadow) return 0;
        const { rows } = await stack.pool.query(`SELECT COALESCE(sum(next_offset), 0)::int AS n FROM ${shadow}.projection_offsets`).catch(() => ({ rows: [{ n: 0 }] }));
        return rows[0].n as number;
      },
      (n) => n > 0,
      30000,
    );
    expect(progress).toBeGreaterThan(0);

    const second = await runOps(stack, ['replay']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already running/);

    slow.child.kill('SIGKILL');
    await slow.result;
    const [shadow] = await schemas(`^loyalty_r[0-9]+$`);
    expect(shadow).toBeDefined();
    const before = await stack.pool.query(`SELECT partition, next_offset::int AS o FROM ${shadow}.projection_offsets ORDER BY partition`);

    const resumed = await runOps(stack, ['replay']);
    expect(resumed.stderr).toMatch(new RegExp(`resuming the interrupted replay into schema ${shadow}`));
    expect(resumed.stderr).toMatch(/redis: resuming the interrupted replay into prefix/);
    expect(resumed.code).toBe(0);
    // It went on from where the shadow was, not from 0: fewer events than the whole topic.
    const done = Number(/replayed (\d+) events/.exec(resumed.stderr)?.[1]);
    const { count } = await topicEvents();
    const already = before.rows.reduce((n, r) => n + r.o, 0);
    expect(already).toBeGreaterThan(0);
    expect(done).toBeLessThan(count);

    await waitCaughtUp(stack);
    const v = await runOps(stack, ['verify']);
    expect(v.code).toBe(0);
    // The retired schema of the first replay was dropped: only the latest is kept.
    expect(await schemas(`^loyalty_retired_`)).toHaveLength(1);
  });

  it('given the Redis read model flushed, when replayed with --projection redis, then it is rebuilt, swapped and verified', async () => {
    const active = (await stack.redis.get(`${stack.redisPrefix}active`)) ?? stack.redisPrefix;
    const keys = await stack.redis.keys(`${active}*`);
    const mine = keys.filter((k) => /^(meta|offsets|bal:|lb:)/.test(k.slice(active.length)));
    await stack.redis.del(...mine);
    const broken = await runOps(stack, ['verify', '--projection', 'redis']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/NOT READY/);

    const r = await runOps(stack, ['replay', '--projection', 'redis']);
    expect(r.code).toBe(0);
    const now = await stack.redis.get(`${stack.redisPrefix}active`);
    expect(now).not.toBe(active);
    expect(r.stdout).toContain(`-> ${now}`);
    const v = await runOps(stack, ['verify', '--projection', 'redis']);
    expect(v.stdout).toMatch(/no differences/);
    expect(v.code).toBe(0);
    await sleep(10);
  });
});
