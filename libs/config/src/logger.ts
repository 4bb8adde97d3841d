// Structured logs: one JSON object per line on stdout (or plain text for people).
// Secrets never reach a log line: callers pass ids and counts, never keys or URLs with passwords.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(opts: { level?: Level; format?: 'json' | 'text'; base?: Record<string, unknown> } = {}): Logger {
  const min = rank[opts.level ?? 'info'];
  const format = opts.format ?? 'json';
  const base = opts.base ?? {};
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (rank[level] < min) return;
    const line =
      format === 'json'
        ? JSON.stringify({ time: new Date().toISOString(), level, msg, ...base, ...fields }, errorReplacer)
        : `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${fieldsText({ ...base, ...fields })}`;
    (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(line + '\n');
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger({ level: opts.level, format, base: { ...base, ...fields } }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

function fieldsText(fields: Record<string, unknown>): string {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, errorReplacer)}`);
  return parts.length ? ' ' + parts.join(' ') : '';
}
