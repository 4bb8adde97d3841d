import { Client, Pool } from 'pg';
import { survivePoolErrors } from './connections';

const PG = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('survivePoolErrors', () => {
  it('given an idle pooled connection, when Postgres terminates it, then a warning is logged and the pool serves the next query', async () => {
    const warnings: string[] = [];
    const pool = survivePoolErrors(new Pool({ connectionString: PG, max: 1, application_name: 'survive-pool-errors-test' }), { warn: (m) => void warnings.push(m) });
    const admin = new Client({ connectionString: PG });
    await admin.connect();
    try {
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      for (let i = 0; i < 50 && warnings.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(warnings).toHaveLength(1);
      const again = await pool.query<{ one: number }>('SELECT 1 AS one');
      expect(again.rows[0].one).toBe(1);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
