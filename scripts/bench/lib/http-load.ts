// The HTTP load generator of the bench, in its own process: `node http-load.js <spec.json>`.
//
// Open loop at a constant rate: request i is due at t0 + i / rate, whatever happened to the
// ones before it, and its latency runs from that due time (so a stall of the server, or of
// this process, counts against every request it delayed: no coordinated omission). Each
// request goes out on a free keep-alive connection; when all `connections` are busy it
// waits in a queue, and that wait is part of its latency. The latency from the moment the
// request was written is reported too (`service`), which leaves out this process's delays.
//
// Why not autocannon (8.0), used here before: its rate limit lets each connection send its
// share of the second back to back and then pause until the next 1 s tick (httpClient.js,
// `reqsMadeThisSecond`), so "2,000/s" was a burst at the top of every second; and its
// correction for coordinated omission takes the expected interval as
// `Math.ceil(1 / rate)` = 1 ms for any rate per connection above 1/s, so every slow answer
// of T ms also added T − 1 invented samples.
//
// The spec's requests were drawn by the caller and are used round robin. The result is
// printed as one JSON line.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { summary } from './util';

export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  rate: number;
  headers: Record<string, string>;
  requests: { method: string; path: string; body?: string; headers?: Record<string, string> }[];
  /** ms before a request without an answer is counted as a timeout (default 10,000). */
  timeoutMs?: number;
}

export interface LoadResult {
  /** Requests answered (any status). */
  total: number;
  /** Answered per second of the run. */
  answeredRate: number;
  /** ms from each request's due time to its complete answer. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** ms from the request's write to its complete answer. */
  serviceP50: number;
  serviceP99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface Pending {
  due: number;
  index: number;
}

interface Conn {
  socket: net.Socket;
  busy: Pending | null;
  writtenAt: number;
  buffer: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** The status and total length of the first complete response in `buf`, or null if it is not all there yet. */
export function parseResponse(buf: Buffer): { status: number; length: number } | null {
  const end = buf.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (m) {
    const length = end + 4 + Number(m[1]);
    return buf.length >= length ? { status, length } : null;
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) throw new Error(`response framed neither by content-length nor chunked: ${head.split('\r\n')[0]}`);
  // Chunks: a hex size line, the data, CRLF; a size of 0 and an empty line end the body (no trailers).
  let at = end + 4;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size');
    at = eol + 2 + size + 2;
    if (buf.length < at) return null;
    if (size === 0) return { status, length: at };
  }
}

const headerLines = (headers: Record<string, string>) =>
  Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const url = new URL(spec.url);
  const port = Number(url.port || 80);
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const common = headerLines({ host: url.host, ...spec.headers });
  const wire = spec.requests.map((r) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const head = `${r.method} ${r.path} HTTP/1.1\r\n${common}${headerLines(r.headers ?? {})}${body ? `content-length: ${body.length}\r\n` : ''}\r\n`;
    return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
  });

  const n = Math.max(1, Math.round(spec.rate * spec.seconds));
  const latency: number[] = [];
  const service: number[] = [];
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let settled = 0;
  const queue: Pending[] = [];
  let queueHead = 0;
  const conns: Conn[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  const settle = () => {
    if (++settled === n) done();
  };
  const dispatch = (c: Conn) => {
    if (c.busy || queueHead === queue.length || c.socket.destroyed) return;
    const p = queue[queueHead++];
    c.busy = p;
    c.writtenAt = performance.now();
    c.socket.write(wire[p.index % wire.length]);
  };
  const connect = (): Promise<Conn> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port, noDelay: true });
      const c: Conn = { socket, busy: null, writtenAt: 0, buffer: Buffer.alloc(0) };
      socket.once('connect', () => resolve(c));
      socket.once('error', reject);
      socket.on('data', (chunk: Buffer) => {
        c.buffer = c.buffer.length ? Buffer.concat([c.buffer, chunk]) : chunk;
        for (;;) {
          let r: ReturnType<typeof parseResponse>;
          try {
            r = parseResponse(c.buffer);
          } catch {
            socket.destroy();
            return;
          }
          if (!r || !c.busy) return;
          const now = performance.now();
          latency.push(now - c.busy.due);
          service.push(now - c.writtenAt);
          if (r.status < 200 || r.status > 299) non2xx++;
          c.buffer = c.buffer.subarray(r.length);
          c.busy = null;
          settle();
          dispatch(c);
        }
      });
      socket.on('close', () => {
        // An answer that will not come: an error, and a fresh connection in its place.
        if (c.busy) {
          c.busy = null;
          errors++;
          settle();
        }
        const i = conns.indexOf(c);
        if (i >= 0 && settled < n)
          connect().then(
            (fresh) => {
              conns[i] = fresh;
              dispatch(fresh);
            },
            () => undefined,
          );
      });
    });
  for (let i = 0; i < spec.connections; i++) conns.push(await connect());

  const watchdog = setInterval(() => {
    const now = performance.now();
    // Never sent (every connection busy or gone, e.g. a server that died): a timeout too.
    while (queueHead < queue.length && now - queue[queueHead].due > timeoutMs) {
      queueHead++;
      timeouts++;
      settle();
    }
    for (const c of conns)
      if (c.busy && now - c.writtenAt > timeoutMs) {
        c.busy = null;
        timeouts++;
        settle();
        c.socket.destroy();
      }
  }, 250);

  const t0 = performance.now() + 5;
  const dueOf = (i: number) => t0 + (i * 1000) / spec.rate;
  let next = 0;
  const schedule = () => {
    const now = performance.now();
    for (; next < n && dueOf(next) <= now; next++) queue.push({ due: dueOf(next), index: next });
    for (const c of conns) dispatch(c);
    if (next < n) setTimeout(schedule, Math.max(0, dueOf(next) - performance.now()));
  };
  setTimeout(schedule, 5);
  await finished;
  const elapsed = (performance.now() - t0) / 1000;
  clearInterval(watchdog);
  for (const c of conns) c.socket.destroy();

  const lat = summary(latency);
  const svc = summary(service);
  return {
    total: latency.length,
    answeredRate: Math.round(latency.length / elapsed),
    p50: round(lat.p50),
    p90: round(lat.p90),
    p99: round(lat.p99),
    max: round(lat.max),
    serviceP50: round(svc.p50),
    serviceP99: round(svc.p99),
    non2xx,
    errors,
    timeouts,
  };
}

if (require.main === module) {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as LoadSpec;
  runLoad(spec).then(
    (r) => process.stdout.write(JSON.stringify(r) + '\n'),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
