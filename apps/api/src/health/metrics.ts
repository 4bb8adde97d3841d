import { Controller, Get, Res } from '@nestjs/common';
import { ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { NoQuery } from '../common/request.dto';
import type { HttpReply } from '../common/http-server';
import { Route } from '../common/route.decorator';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'loyalty_api_' });

const requests = new Counter({
  name: 'loyalty_api_http_requests_total',
  help: 'HTTP requests by method, route pattern and status',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});
const latency = new Histogram({
  name: 'loyalty_api_http_request_duration_seconds',
  help: 'HTTP request duration by method and route pattern',
  labelNames: ['method', 'route'],
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

const commandStages = new Histogram({
  name: 'loyalty_api_command_stage_duration_seconds',
  help: 'Commands sent by the API, by stage: send (until the broker acknowledged it), outcome (from then until its outcome was read)',
  labelNames: ['stage'],
  buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  registers: [registry],
});
export const commandStage = { send: commandStages.labels({ stage: 'send' }), outcome: commandStages.labels({ stage: 'outcome' }) };

type Child = { inc: () => void; observe: (v: number) => void };
/** Per (method, route, status): the labelled children, so a request costs no label hashing. */
const children = new Map<string, Child>();
function child(method: string, route: string, status: number): Child {
  const k = `${method} ${route} ${status}`;
  let c = children.get(k);
  if (!c) {
    const counter = requests.labels({ method, route, status: String(status) });
    const histogram = latency.labels({ method, route });
    c = { inc: () => counter.inc(), observe: (v: number) => histogram.observe(v) };
    // Route PATTERNS only (see below), so this stays small; the bound is a guard.
    if (children.size < 10_000) children.set(k, c);
  }
  return c;
}

/** Counts every request by its route PATTERN (never the path: ids and keys stay out of labels). */
export function countRequests(fastify: FastifyInstance): void {
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? (reply.statusCode === 404 ? 'unmatched' : 'other');
    const c = child(req.method, route, reply.statusCode);
    c.inc();
    c.observe(reply.elapsedTime / 1000);
    done();
  });
}

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  @Get()
  @Route('public', 'Prometheus metrics')
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format', schema: { type: 'string' } })
  async metrics(@NoQuery() _q: object, @Res() reply: HttpReply): Promise<void> {
    void reply.header('Content-Type', registry.contentType).send(await registry.metrics());
  }
}
