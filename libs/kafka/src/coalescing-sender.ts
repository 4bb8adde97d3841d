import type { Message, Producer, TopicMessages } from 'kafkajs';

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Sends single messages through one idempotent producer (one request in flight), joining
 * the messages that arrive while a request is in flight into the next one. Concurrent
 * callers (HTTP requests) then share round trips instead of queueing one request each;
 * order is kept, and each caller learns when its own message was acknowledged.
 */
export class CoalescingSender {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly producer: () => Promise<Producer>,
    private readonly maxMessagesPerRequest = 2000,
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
        const batch = this.queue.splice(0, this.maxMessagesPerRequest);
        try {
          const producer = await this.producer();
          await producer.sendBatch({ topicMessages: byTopic(batch), acks: -1 });
          for (const p of batch) p.resolve();
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
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
