import { Pool } from 'pg';
import { pgPoolConfig, survivePoolErrors } from '@loyalty/config';
import { ApiKeyStore, NAME_MAX, ROLES, type ApiKeyRecord, type Role } from '../../api/src/auth/api-key-store';
import type { OpsCommand } from './commands';

const USAGE = `usage:
  loyalty keys create --role ${ROLES.join('|')} --name NAME [--json]   prints the key ONCE
  loyalty keys list [--json]
  loyalty keys revoke ID
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function printTable(keys: ApiKeyRecord[]): void {
  const rows = [['id', 'name', 'role', 'key', 'created', 'last used', 'revoked']].concat(
    keys.map((k) => [k.id, k.name, k.role, `${k.prefix}…`, k.createdAt.slice(0, 19), k.lastUsedAt?.slice(0, 19) ?? '-', k.revokedAt?.slice(0, 19) ?? '-']),
  );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) process.stdout.write(r.map((v, c) => v.padEnd(widths[c])).join('  ').trimEnd() + '\n');
}

/** `loyalty keys create|list|revoke`: API keys, stored as SHA-256 hashes in loyalty_auth.api_keys. */
export const keysCommand: OpsCommand = {
  summary: 'API keys: create --role R --name N (prints the key once) | list | revoke ID',
  async run({ config, args }) {
    const [sub, ...rest] = args;
    const json = rest.includes('--json');
    const pool = survivePoolErrors(new Pool(pgPoolConfig(config, { max: 1 })));
    const store = new ApiKeyStore(pool);
    try {
      switch (sub) {
        case 'create': {
          const role = option(rest, '--role');
          const name = option(rest, '--name');
          if (!role || !(ROLES as readonly string[]).includes(role)) {
            process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n${USAGE}`);
            return 2;
          }
          if (!name || name.length > NAME_MAX) {
            process.stderr.write(`--name is required, 1 to ${NAME_MAX} characters\n${USAGE}`);
            return 2;
          }
          const { key, record } = await store.create(name, role as Role);
          if (json) process.stdout.write(JSON.stringify({ ...record, key }) + '\n');
          else {
            process.stdout.write(`created ${record.role} key ${record.id} (${record.name})\n`);
            process.stdout.write(`${key}\n`);
            process.stdout.write('keep it now: it is stored hashed and cannot be shown again\n');
          }
          return 0;
        }
        case 'list': {
          const keys = await store.list();
          if (json) process.stdout.write(JSON.stringify(keys, null, 2) + '\n');
          else printTable(keys);
          return 0;
        }
        case 'revoke': {
          const id = rest[0];
          if (!id) {
            process.stderr.write(USAGE);
            return 2;
          }
          const record = await store.revoke(id);
          if (!record) {
            process.stderr.write(`no API key with id ${id}\n`);
            return 1;
          }
          process.stdout.write(`revoked ${record.id} (${record.name}, ${record.role}) at ${record.revokedAt}; the API refuses it within seconds\n`);
          return 0;
        }
        default:
          process.stderr.write(USAGE);
          return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
      }
    } catch (err) {
      if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') {
        process.stderr.write('the API key table is missing: run `loyalty migrate` first\n');
        return 1;
      }
      throw err;
    } finally {
      await pool.end().catch(() => undefined);
    }
  },
};
