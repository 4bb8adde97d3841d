// The Postgres swap of a replay, safe against a live projector that knows nothing of it.
//
// Every projector transaction starts with the upsert on `<live>.projection_offsets`
// (applyPostgresBatch's lockOffset). The swap transaction first takes ACCESS EXCLUSIVE
// on that table: it waits for an in-flight projector batch to commit (so no batch is
// ever split across the old and the new schema), and blocks the next one at its first
// statement. While it holds the lock the live offsets cannot move, so it compares them
// with the shadow's, lets the caller catch the shadow up (on OTHER connections) where it
// is behind, then renames live -> retired, shadow -> live and republishes the analytics
// views, and commits. A projector statement that waited on the old table re-resolves
// the name once the lock is granted (PostgreSQL retries the lookup after invalidations),
// so it continues in the new live schema, from the shadow's own offsets, which are at or
// past the offsets it had reached: nothing is skipped, and what the shadow already holds
// is skipped by offset.
import { publishAnalytics } from '../postgres/analytics';
import { Queryable, quoteIdent } from '../postgres/sql';

export interface PostgresSwapOptions {
  readonly live: string;
  readonly shadow: string;
  readonly retired: string;
  readonly projection: string;
  readonly topic: string;
  readonly analyticsSchema?: string;
  /** Longest wait for the live projector's current batch (default 30 s). */
  readonly lockTimeoutMs?: number;
  /**
   * Called while the live projector is blocked, with the partitions on which the shadow
   * is behind (from = shadow offset, to = live offset): bring the shadow to `to`
   * (write through another connection) before it returns.
   */
  readonly catchUp: (behind: Map<number, { from: bigint; to: bigint }>) => Promise<void>;
}

export async function offsetsOf(client: Queryable, schema: string, projection: string, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await client.query<{ partition: number; next_offset: string }>(
    `SELECT partition, next_offset::text AS next_offset FROM ${quoteIdent(schema)}.projection_offsets WHERE projection = $1 AND topic = $2`,
    [projection, topic],
  );
  return new Map(rows.map((r) => [Number(r.partition), BigInt(r.next_offset)]));
}

/** Raises a partition's stored offset to `offset` (the records between hold no data: markers only). */
export async function raisePostgresOffset(client: Queryable, o: { schema: string; projection: string; topic: string; partition: number; offset: string }): Promise<void> {
  await client.query(
    `INSERT INTO ${quoteIdent(o.schema)}.projection_offsets AS x (projection, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = GREATEST(x.next_offset, EXCLUDED.next_offset), updated_at = now()`,
    [o.projection, o.topic, o.partition, o.offset],
  );
}

export async function swapPostgresShadow(client: Queryable, o: PostgresSwapOptions): Promise<{ caughtUp: number }> {
  const live = quoteIdent(o.live);
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = ${Math.trunc(o.lockTimeoutMs ?? 30000)}`);
    await client.query(`LOCK TABLE ${live}.projection_offsets IN ACCESS EXCLUSIVE MODE`);
    const liveOffsets = await offsetsOf(client, o.live, o.projection, o.topic);
    let shadowOffsets = await offsetsOf(client, o.shadow, o.projection, o.topic);
    const behind = new Map<number, { from: bigint; to: bigint }>();
    for (const [p, l] of liveOffsets) {
      const s = shadowOffsets.get(p) ?? 0n;
      if (s < l) behind.set(p, { from: s, to: l });
    }
    if (behind.size > 0) {
      await o.catchUp(behind);
      shadowOffsets = await offsetsOf(client, o.shadow, o.projection, o.topic);
      for (const [p, b] of behind) {
        if ((shadowOffsets.get(p) ?? 0n) < b.to) throw new Error(`shadow ${o.shadow} is still behind the live schema on partition ${p} after catching up`);
      }
    }
    await client.query(`ALTER SCHEMA ${live} RENAME TO ${quoteIdent(o.retired)}`);
    await client.query(`ALTER SCHEMA ${quoteIdent(o.shadow)} RENAME TO ${live}`);
    await publishAnalytics(client, { schema: o.live, analyticsSchema: o.analyticsSchema, ownTransaction: false });
    await client.query('COMMIT');
    return { caughtUp: behind.size };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
