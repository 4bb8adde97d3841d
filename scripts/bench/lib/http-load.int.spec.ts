import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseResponse, runLoad } from './http-load';

// The bench's load generator against a local server: requests spread over the second, and
// a stall charged to every request it delayed.
describe('http-load: an open loop at a constant rate', () => {
  let server: http.Server;
  let url: string;
  const arrivals: number[] = [];
  let stallAt = -1;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      arrivals.push(performance.now());
      const answer = () => {
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      };
      if (arrivals.length - 1 === stallAt) setTimeout(answer, 100);
      else answer();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    arrivals.length = 0;
    stallAt = -1;
  });

  it('given 200/s for 1 s, when it runs, then the requests arrive spread over the second, not in a burst', async () => {
    const r = await runLoad({ url, connections: 4, seconds: 1, rate: 200, headers: {}, requests: [{ method: 'GET', path: '/a' }, { method: 'GET', path: '/missing' }] });
    expect(r.total).toBe(200);
    expect(r.non2xx).toBe(100);
    const first100ms = arrivals.filter((t) => t - arrivals[0] < 100).length;
    expect(first100ms).toBeGreaterThanOrEqual(15);
    expect(first100ms).toBeLessThanOrEqual(25);
  });

  it('given one answer held 100 ms on the only connection, then the requests queued behind it count their wait', async () => {
    stallAt = 50;
    const r = await runLoad({ url, connections: 1, seconds: 1, rate: 200, headers: {}, requests: [{ method: 'POST', path: '/a', body: '{"x":1}' }] });
    expect(r.total).toBe(200);
    // About 20 of the 200 fall due during the stall, each late by what is left of it: the
    // slowest 1 % are late by 90 ms or more.
    expect(r.p99).toBeGreaterThanOrEqual(80);
    expect(r.max).toBeGreaterThanOrEqual(100);
    // Timed from their write instead, only the held one is slow.
    expect(r.serviceP99).toBeLessThan(50);
  });

  it('given a server that goes away, when the run ends, then every request is counted as an error or a timeout, and the run does not hang', async () => {
    const server = net.createServer();
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      // At the first request: stop listening and drop every connection (reconnects are refused).
      s.once('data', () => {
        server.close();
        for (const x of sockets) x.destroy();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const r = await runLoad({ url: `http://127.0.0.1:${port}`, connections: 2, seconds: 0.5, rate: 20, headers: {}, requests: [{ method: 'GET', path: '/' }], timeoutMs: 300 });
    expect(r.total).toBe(0);
    expect(r.errors + r.timeouts).toBe(10);
    expect(r.timeouts).toBeGreaterThan(0);
  }, 10_000);

  it('reads a response only once it is complete', () => {
    const head = 'HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\n';
    expect(parseResponse(Buffer.from(head + 'abc'))).toBeNull();
    expect(parseResponse(Buffer.from(head + 'abcdeHTTP/1.1'))).toEqual({ status: 201, length: head.length + 5 });
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{"ok":true}\r\n0\r\n\r\n';
    expect(parseResponse(Buffer.from(chunked.slice(0, -2)))).toBeNull();
    expect(parseResponse(Buffer.from(chunked))).toEqual({ status: 200, length: chunked.length });
    expect(() => parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nX: y\r\n\r\n'))).toThrow(/content-length/);
  });
});
