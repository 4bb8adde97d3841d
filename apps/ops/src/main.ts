#!/usr/bin/env node
import { createLogger, loadConfigOrExit } from '@loyalty/config';
import { UsageError } from '@loyalty/config';
import { commands, usage } from './commands';

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(usage());
    return name && name !== 'help' && name !== '--help' ? 2 : 0;
  }
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.log.level, format: 'text', base: { app: 'ops' } });
  return command.run({ config, logger, args });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`loyalty: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
