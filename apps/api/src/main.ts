import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfigOrExit } from '@loyalty/config';
import { AppModule } from './app.module';
import { ErrorFilter } from './common/error.filter';
import { acceptJsonBodiesOnly, createHttpAdapter } from './common/http-server';
import { LOGGER } from './infrastructure/tokens';
import { countRequests } from './health/metrics';
import { setupOpenApi } from './openapi';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(), {
    logger: ['error', 'warn'],
    bodyParser: false,
  });
  // Also for what happens outside a route (unknown paths, body errors): APP_FILTER
  // providers only see route handlers, global filters see those too.
  app.useGlobalFilters(new ErrorFilter(app.get(LOGGER)));
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodiesOnly(fastify);
  countRequests(fastify);
  fastify.decorateRequest('principal', null);
  setupOpenApi(app);
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'api listening', app: 'api', url: `http://${config.http.host}:${config.http.port}` }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`api failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
