import type { AppConfig, Logger } from '@loyalty/config';
import { topicsCommand } from './topics.command';
import { migrateCommand } from './migrate.command';
import { lagCommand } from './lag.command';
import { keysCommand } from './keys.command';
import { verifyCommand } from './verify.command';
import { replayCommand } from './replay.command';
import { dlqCommand } from './dlq.command';
import { rebuildLedgerStateCommand } from './rebuild-ledger-state.command';

export interface CommandContext {
  config: AppConfig;
  logger: Logger;
  args: string[];
}

export interface OpsCommand {
  summary: string;
  run(ctx: CommandContext): Promise<number>;
}

export const commands: Record<string, OpsCommand> = {
  topics: topicsCommand,
  migrate: migrateCommand,
  lag: lagCommand,
  keys: keysCommand,
  verify: verifyCommand,
  replay: replayCommand,
  dlq: dlqCommand,
  'rebuild-ledger-state': rebuildLedgerStateCommand,
};

export function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  loyalty ${name.padEnd(24)} ${c.summary}`);
  return `usage: loyalty <command> [options]\n\n${lines.join('\n')}\n`;
}
