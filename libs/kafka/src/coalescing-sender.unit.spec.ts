import type { Producer, ProducerBatch } from 'kafkajs';
import { CoalescingSender } from './coalescing-sender';

/** A producer whose requests complete when the test says so. */
function slowProducer() {
  const requests: ProducerBatch[] = [];
  const pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  const producer = {
    sendBatch: (batch: ProducerBatch) => {
      requests.push(batch);
      return new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
    },
  } as unknown as Producer;
  const settle = async (err?: Error) => {
    const p = pending.shift()!;
    if (err) p.reject(err);
    else p.resolve();
    await new Promise((r) => setImmediate(r));
  };
  return { producer, requests, settle };
}

const values = (b: ProducerBatch) => b.topicMessages!.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.value}`));

describe('CoalescingSender', () => {
  it('given a request in flight, when more messages arrive, then they leave together in the next request, in order', async () => {
    const { producer, requests, settle } = slowProducer();
    const sender = new CoalescingSender(async () => producer, { onFailure: async () => undefined });
    const acked: string[] = [];
    const send = (topic: string, v: string) => sender.send(topic, { value: v }).then(() => void acked.push(v));

    const first = send('a', '1');
    await new Promise((r) => setImmediate(r));
    const rest = [send('a', '2'), send('b', '3'), send('a', '4')];
    expect(requests.map(values)).toEqual([['a:1']]);

    await settle();
    await first;
    expect(requests.map(values)).toEqual([['a:1'], ['a:2', 'a:4', 'b:3']]);
    expect(acked).toEqual(['1']);

    await settle();
    await Promise.all(rest);
    expect(acked).toEqual(['1', '2', '3', '4']);
    expect(requests).toHaveLength(2);
  });

  it('given a failed request, when it fails, then only its callers are rejected, the producer is replaced, and later messages are still sent', async () => {
    const { producer, requests, settle } = slowProducer();
    const replaced: string[] = [];
    const sender = new CoalescingSender(async () => producer, { onFailure: async (err) => void replaced.push(err.message) });
    const failed = sender.send('a', { value: '1' });
    await new Promise((r) => setImmediate(r));
    const later = sender.send('a', { value: '2' });
    const rejected = expect(failed).rejects.toThrow('broker down');
    await settle(new Error('broker down'));
    await rejected;
    await settle();
    await expect(later).resolves.toBeUndefined();
    expect(requests.map(values)).toEqual([['a:1'], ['a:2']]);
    expect(replaced).toEqual(['broker down']);
  });

  it('given queued messages over the byte bound, when sent, then they are split across requests, each at least one message', async () => {
    const { producer, requests, settle } = slowProducer();
    const sender = new CoalescingSender(async () => producer, { onFailure: async () => undefined, maxBytesPerRequest: 1000 });
    const first = sender.send('a', { value: 'x' });
    await new Promise((r) => setImmediate(r));
    const big = 'y'.repeat(600);
    const rest = [sender.send('a', { value: big }), sender.send('a', { value: big }), sender.send('a', { value: 'z'.repeat(5000) })];
    for (let i = 0; i < 4; i++) await settle();
    await Promise.all([first, ...rest]);
    expect(requests.map((r) => values(r).length)).toEqual([1, 1, 1, 1]);
  });

  it('given no producer, when a message is sent, then the caller gets the connection error', async () => {
    const sender = new CoalescingSender(() => Promise.reject(new Error('no broker')), { onFailure: async () => undefined });
    await expect(sender.send('a', { value: '1' })).rejects.toThrow('no broker');
  });
});
