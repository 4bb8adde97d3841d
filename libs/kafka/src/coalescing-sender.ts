import type { Message, Producer, TopicMessages } from 'kafkajs';

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface CoalescingSenderOptions {
  /** Called after a failed request, before the next one: the producer must be replaced (see below). */
  onFailure: (err: Error) => Promise<void>;
  maxMessagesPerRequest?: number;
  /** Keys and values per request; below the topics' max.message.bytes (1 MiB by default). */
  maxBytesPerRequest?: number;
}

/**
 * Sends single messages through one idempotent producer (one request in flight), joining
 * the messages that arrive while a request is in flight into the next one. Concurrent
 * callers (HTTP requests) then share round trips instead of queueing one request each;
 * order is kept, and each caller learns when its own message was acknowledged.
 *
 * A failed request may have been written for some of its partitions, and kafkajs then
 * rolls back the sequence numbers of all of them: the same producer's next message could
 * be taken by the broker for a duplicate and dropped while acknowledged. So after any
 * failure the producer is replaced (a new producer id) before anything else is sent.
 */
export class CoalescingSender {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly o: CoalescingSenderOptions,
  ) {}

  send(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.requestSize());
        try {
          const producer = await this.producer();
          await producer.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
          await this.o.onFailure(err as Error).catch(() => undefined);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** How many queued messages the next request takes: at least one, within both bounds. */
  private requestSize(): number {
    const maxMessages = this.o.maxMessagesPerRequest ?? 2000;
    const maxBytes = this.o.maxBytesPerRequest ?? 512 * 1024;
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && n < maxMessages) {
      bytes += sizeOf(this.queue[n].message);
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    return n;
  }
}

function sizeOf(m: Message): number {
  const part = (v: Message['key'] | Message['value']) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);
  return part(m.key) + part(m.value) + 64;
}

function byTopic(batch: Pending[]): TopicMessages[] {
  const topics = new Map<string, Message[]>();
  for (const p of batch) {
    const list = topics.get(p.topic);
    if (list) list.push(p.message);
    else topics.set(p.topic, [p.message]);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}
