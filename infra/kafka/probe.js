#!/usr/bin/env node
// Readiness probe used by scripts/kafka.sh: waits until a Kafka broker answers a
// Metadata request (kafkajs admin.describeCluster) on the given address.
//   node infra/kafka/probe.js <host:port> <timeoutSeconds> [pid]
// Exit codes: 0 ready; 1 timed out; 2 the process <pid> died while waiting;
// 3 kafkajs is not installed (run npm ci).
'use strict';
const path = require('node:path');

const [address = '127.0.0.1:9092', timeoutArg = '90', pidArg] = process.argv.slice(2);
const deadline = Date.now() + Number(timeoutArg) * 1000;
const pid = pidArg ? Number(pidArg) : undefined;

let kafkajs;
try {
  kafkajs = require(require.resolve('kafkajs', { paths: [path.resolve(__dirname, '../..')] }));
} catch {
  process.exit(3);
}
const { Kafka, logLevel } = kafkajs;

function alive(p) {
  try {
    process.kill(p, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

async function once() {
  const kafka = new Kafka({
    clientId: 'kafka-sh-probe',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 3000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

(async () => {
  for (;;) {
    if (pid !== undefined && !alive(pid)) process.exit(2);
    try {
      if (await once()) process.exit(0);
    } catch {
      /* not up yet */
    }
    if (Date.now() >= deadline) process.exit(1);
    await new Promise((r) => setTimeout(r, 250));
  }
})();
