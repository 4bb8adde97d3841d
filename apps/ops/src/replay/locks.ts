// "Run twice at once, the second refuses": a Postgres advisory lock (held by a session,
// released by the server the moment the process dies, kill -9 included) and a Redis lock
// (a key with a TTL refreshed while the holder runs; a holder that died on this host is
// recognised by its pid and the lock taken over at once).
import * as os from 'node:os';
import { Client, type ClientConfig } from 'pg';
import type Redis from 'ioredis';

export class LockedError extends Error {}

export interface Lock {
  release(): Promise<void>;
}

export async function pgLock(config: ClientConfig, name: string, what: string): Promise<Lock> {
  const client = new Client(config);
  await client.connect();
  const { rows } = await client.query(`SELECT pg_try_advisory_lock(hashtext('loyalty-ops'), hashtext($1)) AS ok`, [name]);
  if (!rows[0].ok) {
    await client.end().catch(() => undefined);
    throw new LockedError(`${what} is already running (Postgres advisory lock "${name}" is held by another session): refusing to run twice at once`);
  }
  return {
    async release() {
      await client.query(`SELECT pg_advisory_unlock(hashtext('loyalty-ops'), hashtext($1))`, [name]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

const TTL_MS = 15000;
const DEL_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function redisLock(redis: Redis, key: string, what: string): Promise<Lock> {
  const value = JSON.stringify({ host: os.hostname(), pid: process.pid, since: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    if ((await redis.set(key, value, 'PX', TTL_MS, 'NX')) === 'OK') break;
    const held = await redis.get(key);
    let holder: { host?: string; pid?: number; since?: string } = {};
    try {
      holder = JSON.parse(held ?? '{}');
    } catch {
      /* foreign value: treat as held */
    }
    if (attempt === 0 && held && holder.host === os.hostname() && typeof holder.pid === 'number' && !alive(holder.pid)) {
      await redis.eval(DEL_IF, 1, key, held); // its holder died (kill -9): take it over
      continue;
    }
    throw new LockedError(
      `${what} is already running (Redis lock ${key} held by pid ${holder.pid ?? '?'} on ${holder.host ?? '?'} since ${holder.since ?? '?'}): refusing to run twice at once`,
    );
  }
  const timer = setInterval(() => void redis.eval(EXTEND_IF, 1, key, value, TTL_MS).catch(() => undefined), TTL_MS / 3);
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await redis.eval(DEL_IF, 1, key, value).catch(() => undefined);
    },
  };
}
