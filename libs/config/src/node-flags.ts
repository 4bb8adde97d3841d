/**
 * V8 flags each app is started with (every launcher reads them from here: scripts/demo.sh,
 * docker-compose.yml, the test and bench stacks). They must be given on the command line:
 * v8.setFlagsFromString cannot resize the heap of a running process.
 *
 * The ledger allocates a few hundred short-lived bytes per message (JSON, Kafka records,
 * states): a 32 MiB semi-space lets more of them die young. Measured with the bench's
 * command-side phase, 4 alternating runs: 120-132 -> 104-105 µs of CPU per message.
 */
const FLAGS: Record<string, readonly string[]> = {
  ledger: ['--max-semi-space-size=32'],
};

export function nodeFlagsFor(app: string): string[] {
  return [...(FLAGS[app] ?? [])];
}
