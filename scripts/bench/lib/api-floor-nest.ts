// The second floor of api-cpu.ts (`--builds floor-nest,…`): the two reads as Nest 11
// controllers on its Fastify adapter, with the same Redis queries, and nothing of the API's
// own pipeline (no guard, pipes, filters, metrics, QueryBus). Against `floor` (bare
// Fastify) it shows what Nest's router costs per request; against the API, what the
// API's guard, validation, metrics and query bus add.
import 'reflect-metadata';
import { Controller, Get, Module, NotFoundException, Param, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { activeRedisPrefix, getLeaderboard, getRedisBalance } from '@loyalty/read-models';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0', { enableAutoPipelining: true });
let prefix = '';

@Controller('v1')
class Reads {
  @Get('members/:id/balance')
  async balance(@Param('id') id: string) {
    const b = await getRedisBalance(redis, { prefix, memberId: id });
    if (!b) throw new NotFoundException({ error: 'not_found', message: 'this member is unknown' });
    return b;
  }

  @Get('leaderboards/:board')
  top(@Param('board') board: string, @Query('limit') limit?: string) {
    return getLeaderboard(redis, { prefix, board, period: 'all', limit: Number(limit ?? 10) });
  }
}

@Module({ controllers: [Reads] })
class FloorModule {}

async function main(): Promise<void> {
  prefix = await activeRedisPrefix(redis, process.env.REDIS_KEY_PREFIX ?? 'loyalty:');
  const app = await NestFactory.create<NestFastifyApplication>(FloorModule, new FastifyAdapter({ logger: false }), { logger: ['error', 'warn'] });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.stdout.write('api listening (floor-nest)\n');
  process.once('SIGTERM', () => void app.close().then(() => redis.quit()).finally(() => process.exit(0)));
}

void main();
