import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from './logger';

/** The metrics every stage reports: batch timings, throughput and consumer lag, per partition. */
export interface StageMetrics {
  registry: Registry;
  batchSeconds: Histogram<'stage' | 'partition'>;
  messages: Counter<'stage'>;
  lag: Gauge<'stage' | 'partition'>;
  gauge(name: string, help: string, collect: () => number): void;
}

export function createStageMetrics(app: string): StageMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    batchSeconds: new Histogram({
      name: 'loyalty_batch_seconds',
      help: 'Time to process and commit one batch of one partition',
      labelNames: ['stage', 'partition'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    messages: new Counter({ name: 'loyalty_messages_total', help: 'Input messages processed', labelNames: ['stage'], registers: [registry] }),
    lag: new Gauge({ name: 'loyalty_consumer_lag', help: 'Messages behind the partition head, as of the last batch', labelNames: ['stage', 'partition'], registers: [registry] }),
    gauge(name, help, collect) {
      new Gauge({ name, help, registers: [registry], collect() { this.set(collect()); } });
    },
  };
}

/** GET /metrics (Prometheus) and GET /health on METRICS_PORT; 0 serves nothing. */
export async function serveMetrics(port: number, host: string, metrics: StageMetrics, logger: Logger): Promise<Server | undefined> {
  if (port === 0) return undefined;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"GET /metrics or /health"}');
    }
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  logger.info('metrics served', { url: `http://${host}:${port}/metrics` });
  return server;
}
