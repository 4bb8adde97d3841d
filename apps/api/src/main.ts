import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { json, type NextFunction, type Request, type Response } from 'express';
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
  // No ETag on API answers: it is a SHA-1 of every body, and no client of this API sends
  // If-None-Match (balances and boards change with every event anyway).
  app.set('etag', false);
  // Also for what happens outside a route (unknown paths, body-parser errors, bad percent-encoding):
  // APP_FILTER providers only see route handlers, global filters see those too.
  app.useGlobalFilters(new ErrorFilter(app.get(LOGGER)));
  app.use(metricsMiddleware);
  // Every body is one JSON object; the largest the ledger takes is a purchase message (64 KiB).
  // Larger is 413 and malformed JSON 400, both as {error, message} by the ErrorFilter.
  // GET and HEAD take no body: the parser is skipped for them (a client that sends
  // `Content-Length: 0` on a GET would otherwise cost a stream read per request).
  const parseJson = json({ limit: LIMITS.messageMaxBytes, strict: true });
  app.use((req: Request, res: Response, next: NextFunction) => (req.method === 'GET' || req.method === 'HEAD' ? next() : parseJson(req, res, next)));
  setupOpenApi(app);
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'api listening', app: 'api', url: `http://${config.http.host}:${config.http.port}` }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`api failed to start: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
