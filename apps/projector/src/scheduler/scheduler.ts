import type { Pool } from 'pg';
import type { Producer } from 'kafkajs';
import type { Logger } from '@loyalty/config';
import type { ExpirePoints, Programme, ReviewTier } from '@loyalty/domain';
import type { CommandMessage } from '@loyalty/kafka';

export interface SchedulerOptions {
  pool: Pool;
  producer: Producer;
  commandsTopic: string;
  /** Read-model schema (lots, balances). */
  schema: string;
  /** Distinguishes stacks sharing one database (the topic prefix). */
  scope: string;
  programme: Programme;
  logger: Logger;
  batchSize?: number;
}

const MINUTE_MS = 60_000;

/** The review date of a moment: the first day of its month, 00:00 UTC (CONTRACT: monthly review). */
export function reviewDateOf(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
}

/** The expiry as-of of a moment: the start of its minute, so every tick names a stable instant. */
export function expiryAsOf(now: Date): string {
  return new Date(Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS).toISOString();
}

/**
 * Finds lots that have expired and members due for their monthly tier review in the read
 * model, and sends ExpirePoints / ReviewTier commands with an explicit as-of date, so that
 * what the ledger decides never depends on when the command happened to run. Command ids
 * are derived from (member, as-of): a repeat is a no-op in the decider.
 */
export class Scheduler {
  constructor(private readonly o: SchedulerOptions) {}

  async tick(now: Date = new Date()): Promise<{ expire: number; review: number }> {
    const lock = await this.o.pool.connect();
    try {
      // One scheduler at a time per scope, whatever the number of projector processes.
      const { rows } = await lock.query('SELECT pg_try_advisory_lock(hashtext($1)) AS got', [`loyalty-scheduler:${this.o.scope}`]);
      if (!rows[0].got) return { expire: 0, review: 0 };
      try {
        const expire = await this.expireDue(now);
        const review = await this.reviewIfDue(now);
        return { expire, review };
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [`loyalty-scheduler:${this.o.scope}`]);
      }
    } finally {
      lock.release();
    }
  }

  /** Members holding a lot whose expiry has passed: one ExpirePoints each. */
  private async expireDue(now: Date): Promise<number> {
    const asOf = expiryAsOf(now);
    const { rows } = await this.o.pool.query<{ member_id: string }>(
      `SELECT DISTINCT member_id FROM ${this.o.schema}.points_lots WHERE remaining > 0 AND expires_at <= $1 LIMIT $2`,
      [asOf, this.o.batchSize ?? 10_000],
    );
    const commands = rows.map((r): CommandMessage => {
      const data: ExpirePoints['data'] = { memberId: r.member_id, asOf };
      const id = `expire:${r.member_id}:${asOf}`;
      return { commandId: id, correlationId: id, type: 'ExpirePoints', data, origin: { source: 'scheduler' } };
    });
    await this.send(commands);
    if (commands.length) this.o.logger.info('expiry scheduled', { asOf, members: commands.length });
    return commands.length;
  }

  /** Once per month: every member above the lowest tier gets a ReviewTier as of the 1st. */
  private async reviewIfDue(now: Date): Promise<number> {
    const asOf = reviewDateOf(now);
    const done = await this.o.pool.query(`SELECT 1 FROM loyalty_ops.scheduler_runs WHERE job = 'tier-review' AND scope = $1 AND as_of = $2`, [this.o.scope, asOf]);
    if (done.rowCount) return 0;
    const lowest = this.o.programme.tiers[0].name;
    let sent = 0;
    let after = '';
    for (;;) {
      const { rows } = await this.o.pool.query<{ member_id: string }>(
        `SELECT member_id FROM ${this.o.schema}.member_balances WHERE tier IS NOT NULL AND tier <> $1 AND member_id > $2 ORDER BY member_id LIMIT $3`,
        [lowest, after, this.o.batchSize ?? 10_000],
      );
      if (rows.length === 0) break;
      const commands = rows.map((r): CommandMessage => {
        const data: ReviewTier['data'] = { memberId: r.member_id, asOf };
        const id = `review:${r.member_id}:${asOf}`;
        return { commandId: id, correlationId: id, type: 'ReviewTier', data, origin: { source: 'scheduler' } };
      });
      await this.send(commands);
      sent += commands.length;
      after = rows[rows.length - 1].member_id;
    }
    // Written after the commands: a crash in between re-sends them, which the decider ignores.
    await this.o.pool.query(
      `INSERT INTO loyalty_ops.scheduler_runs (job, scope, as_of, commands) VALUES ('tier-review', $1, $2, $3) ON CONFLICT DO NOTHING`,
      [this.o.scope, asOf, sent],
    );
    this.o.logger.info('tier review scheduled', { asOf, members: sent });
    return sent;
  }

  private async send(commands: CommandMessage[]): Promise<void> {
    for (let i = 0; i < commands.length; i += 1000) {
      const chunk = commands.slice(i, i + 1000);
      await this.o.producer.send({
        topic: this.o.commandsTopic,
        acks: -1,
        messages: chunk.map((c) => ({ key: c.data.memberId, value: JSON.stringify(c) })),
      });
    }
  }
}
