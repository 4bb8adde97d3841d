// The patched kafkajs RequestQueue (patches/kafkajs+2.2.4.patch): with nothing pending it
// arms no timer. Upstream 2.2.4 re-armed a 1 ms timer for ever once a connection had had a
// response (tulios/kafkajs#1556): an idle API spent about 30 ms of CPU a second on it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RequestQueue = require('kafkajs/src/network/requestQueue');

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const queues: Array<{ destroy(): void }> = [];
afterEach(() => queues.splice(0).forEach((q) => q.destroy()));

function queue(maxInFlightRequests = 1) {
  const q = new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:1', logger });
  queues.push(q);
  return q;
}
function request(correlationId: number) {
  const sent: number[] = [];
  const entry = { correlationId, apiName: 'Fetch', apiKey: 1, apiVersion: 11, resolve: () => undefined, reject: () => undefined };
  return { sent, pushed: { entry, expectResponse: true, sendRequest: () => sent.push(correlationId) } };
}

describe('kafkajs RequestQueue, patched', () => {
  it('given requests that were queued and answered, when nothing is pending any more, then no check runs again (no 1 ms timer loop)', async () => {
    const q = queue(1);
    const a = request(1);
    const b = request(2);
    q.push(a.pushed);
    q.push(b.pushed); // over maxInFlightRequests: pending, a check is scheduled
    expect(a.sent).toEqual([1]);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(b.sent).toEqual([2]);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    await sleep(30); // the check scheduled while b was pending has run
    const checks = jest.spyOn(q, 'checkPendingRequests');
    await sleep(60);
    expect(checks).not.toHaveBeenCalled();
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('given a throttled queue, then a pending request is still sent when the throttle ends', async () => {
    const q = queue(10);
    q.maybeThrottle(40);
    const a = request(1);
    q.push(a.pushed);
    expect(a.sent).toEqual([]);
    await sleep(120);
    expect(a.sent).toEqual([1]);
  });
});
