// The floor of api-cpu.ts (`--builds floor,…`): the two read routes on bare Fastify, with the
// same Redis queries and replies as the API, and nothing else (no Nest, API key, rate limit,
// validation, metrics). What HTTP and one Redis round trip cost per request on this machine;
// the API's figure less this one is what its own request pipeline costs.
import Fastify from 'fastify';
import Redis from 'ioredis';
import { activeRedisPrefix, getLeaderboard, getRedisBalance } from '@loyalty/read-models';

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', { enableAutoPipelining: true });
  const prefix = await activeRedisPrefix(redis, process.env.REDIS_KEY_PREFIX ?? 'loyalty:');
  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/v1/members/:id/balance', async (req, reply) => {
    const b = await getRedisBalance(redis, { prefix, memberId: req.params.id });
    return b ?? reply.code(404).send({ error: 'not_found', message: 'this member is unknown' });
  });
  app.get<{ Params: { board: string }; Querystring: { limit?: string } }>('/v1/leaderboards/:board', async (req) =>
    getLeaderboard(redis, { prefix, board: req.params.board, period: 'all', limit: Number(req.query.limit ?? 10) }),
  );
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
  process.stdout.write('api listening (floor)\n');
  process.once('SIGTERM', () => void app.close().then(() => redis.quit()).finally(() => process.exit(0)));
}

void main();
