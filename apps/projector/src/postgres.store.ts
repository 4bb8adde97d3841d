import type { Pool } from 'pg';
import { applyPostgresBatch, decodeEvent, getPostgresOffsets, POSTGRES_PROJECTION, type RawEvent } from '@loyalty/read-models';
import type { ProjectionStore } from './projector';

/** The Postgres read models: rows and the applied offset in one transaction per batch. */
export function postgresStore(pool: Pool, opts: { topic: string; schema: string; projection?: string }): ProjectionStore {
  const projection = opts.projection ?? POSTGRES_PROJECTION.name;
  return {
    name: 'postgres',
    async loadOffsets() {
      const rows = await getPostgresOffsets(pool, { schema: opts.schema, projection, topic: opts.topic });
      return new Map(rows.map((r) => [r.partition, r.nextOffset]));
    },
    async skipMarkers(partition: number, firstOffset: string, lastOffset: string) {
      await pool.query(
        `UPDATE ${opts.schema}.projection_offsets SET next_offset = $5::bigint + 1, updated_at = now()
         WHERE projection = $1 AND topic = $2 AND partition = $3 AND next_offset BETWEEN $4::bigint AND $5::bigint`,
        [projection, opts.topic, partition, firstOffset, lastOffset],
      );
    },
    async applyBatch(partition: number, fetched: RawEvent[], { endOffset }: { endOffset: string }) {
      const events = fetched.map((r) => ({ offset: r.offset, envelope: decodeEvent(r) }));
      const client = await pool.connect();
      try {
        const r = await applyPostgresBatch(client, { projection, topic: opts.topic, partition, events, endOffset }, { schema: opts.schema });
        return { nextOffset: r.nextOffset };
      } finally {
        client.release();
      }
    },
  };
}
