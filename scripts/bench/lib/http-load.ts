// The HTTP load generator of the bench, in its own process: `node http-load.js <spec.json>`.
// autocannon shares no event loop with the bench's purchase publisher (which runs at the
// same time); in one process, the publisher's work delayed the reading of responses and
// the latencies measured the bench, not the API. The requests were drawn by the caller
// (spec.requests, used round robin); the result is printed as one JSON line.
import * as fs from 'node:fs';
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  rate: number;
  headers: Record<string, string>;
  requests: { method: string; path: string; body?: string; headers?: Record<string, string> }[];
}

function main(): void {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as LoadSpec;
  let i = 0;
  autocannon(
    {
      url: spec.url,
      connections: spec.connections,
      duration: spec.seconds,
      overallRate: spec.rate,
      timeout: 10,
      headers: spec.headers,
      requests: [
        {
          setupRequest: (req: Record<string, unknown>) => {
            const r = spec.requests[i++ % spec.requests.length];
            return { ...req, method: r.method, path: r.path, ...(r.body !== undefined ? { body: r.body } : {}), headers: { ...(req.headers as Record<string, string>), ...(r.headers ?? {}) } };
          },
        },
      ],
    } as unknown as autocannon.Options,
    (err, r) => {
      if (err) {
        process.stderr.write(`${err.stack ?? err}\n`);
        process.exit(1);
      }
      process.stdout.write(JSON.stringify({ total: r.requests.total, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts }) + '\n');
    },
  );
}

if (require.main === module) main();
