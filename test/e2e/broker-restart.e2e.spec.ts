// The broker restarted during ingest: processing resumes by itself, with the same
// exactly-once result. Runs its own broker (another port and data dir), so the shared
// broker of the other tests is never touched.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { EventEnvelope } from '@loyalty/domain';
import { readPartitionsToEnd } from '@loyalty/kafka';
import { createStack, type Stack } from '../support/stack';
import { publishTraffic, runOps, waitCaughtUp } from '../ops/support';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const PORT = Number(process.env.TEST_SECOND_BROKER_PORT ?? 19092);
const brokerEnv = { ...process.env, KAFKA_PORT: String(PORT), KAFKA_CONTROLLER_PORT: String(PORT + 1), KAFKA_DATA_DIR: `.data/kafka-${PORT}` };
const kafkaSh = (cmd: string) => run(path.join(ROOT, 'scripts', 'kafka.sh'), [cmd], { env: brokerEnv, cwd: ROOT, timeout: 120_000 });

let stack: Stack;

beforeAll(async () => {
  await kafkaSh('reset').catch(() => undefined);
  await kafkaSh('up');
  stack = await createStack({ partitions: 3, brokers: `127.0.0.1:${PORT}` });
}, 180_000);

afterAll(async () => {
  await stack?.teardown().catch(() => undefined);
  await kafkaSh('reset').catch(() => undefined);
}, 120_000);

it('given purchases being ingested, when the broker restarts, then every purchase is counted exactly once', async () => {
  await stack.start('ledger');
  await stack.start('projector');
  await publishTraffic(stack, { purchases: 20_000, members: 1_000, seed: 13 });

  // Restart the broker while the ledger works through the stream.
  await new Promise((r) => setTimeout(r, 1_500));
  await kafkaSh('down');
  await new Promise((r) => setTimeout(r, 3_000));
  await kafkaSh('up');

  await waitCaughtUp(stack, 240);
  const verify = await runOps(stack, ['verify']);
  expect(verify.stdout).toMatch(/no differences/);
  expect(verify.code).toBe(0);

  const purchaseMade = new Map<string, number>();
  await readPartitionsToEnd({
    kafka: stack.kafka,
    topic: stack.topics.events,
    partitions: [0, 1, 2],
    onBatch: (_p, messages) => {
      for (const m of messages) {
        const e = JSON.parse(m.value!.toString()) as EventEnvelope;
        if (e.type === 'PurchaseMade') {
          const id = (e.data as { purchaseId: string }).purchaseId;
          purchaseMade.set(id, (purchaseMade.get(id) ?? 0) + 1);
        }
      }
    },
  });
  expect(purchaseMade.size).toBe(20_000);
  expect([...purchaseMade.values()].every((n) => n === 1)).toBe(true);
}, 480_000);
