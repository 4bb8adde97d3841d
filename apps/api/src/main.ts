import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadConfigOrExit } from '@loyalty/config';
import { LIMITS } from '@loyalty/domain';
import { AppModule } from './app.module';
import { ErrorFilter } from './common/error.filter';
import { LOGGER } from './infrastructure/tokens';
import { metricsMiddleware } from './health/metrics';
import { setupOpenApi } from './openapi';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    logger: ['error', 'warn'],
    bodyParser: false,
  });
  app.disable('x-powered-by');
  // Also for what happens outside a route (unknown paths, body-parser errors, bad percent-encoding):
  // APP_FILTER providers only see route handlers, global filters see those too.
  app.useGlobalFilters(new ErrorFilter(app.get(LOGGER)));
  app.use(metricsMiddleware);
  // Every body is one JSON object; the largest the ledger takes is a purchase message (64 KiB).
  // Larger is 413 and malformed JSON 400, both as {error, message} by the ErrorFilter.
  app.useBodyParser('json', { limit: LIMITS.messageMaxBytes, strict: true });
  setupOpenApi(app);
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'api listening', app: 'api', url: `http://${config.http.host}:${config.http.port}` }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`api failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
