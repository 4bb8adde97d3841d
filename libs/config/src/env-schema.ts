// A small typed reader of environment variables. Every problem names the variable,
// and all problems are reported at once so an operator fixes them in one go.

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export interface Field<T> {
  read(name: string, raw: string | undefined, problems: string[]): T;
}

const present = (raw: string | undefined): raw is string => raw !== undefined && raw.trim() !== '';

export function str(opts: { default?: string; pattern?: RegExp; oneOf?: readonly string[] } = {}): Field<string> {
  return {
    read(name, raw, problems) {
      if (!present(raw)) {
        if (opts.default !== undefined) return opts.default;
        problems.push(`${name} is required`);
        return '';
      }
      const value = raw.trim();
      if (opts.oneOf && !opts.oneOf.includes(value)) problems.push(`${name} must be one of ${opts.oneOf.join(', ')} (got '${value}')`);
      if (opts.pattern && !opts.pattern.test(value)) problems.push(`${name} must match ${opts.pattern} (got '${value}')`);
      return value;
    },
  };
}

export function optionalStr(): Field<string | undefined> {
  return { read: (_name, raw) => (present(raw) ? raw.trim() : undefined) };
}

export function int(opts: { default?: number; min?: number; max?: number } = {}): Field<number> {
  return {
    read(name, raw, problems) {
      if (!present(raw)) {
        if (opts.default !== undefined) return opts.default;
        problems.push(`${name} is required`);
        return 0;
      }
      const value = Number(raw.trim());
      const min = opts.min ?? Number.MIN_SAFE_INTEGER;
      const max = opts.max ?? Number.MAX_SAFE_INTEGER;
      if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
        problems.push(`${name} must be an integer from ${min} to ${max} (got '${raw}')`);
        return opts.default ?? 0;
      }
      return value;
    },
  };
}

export function bool(opts: { default: boolean }): Field<boolean> {
  return {
    read(name, raw, problems) {
      if (!present(raw)) return opts.default;
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      problems.push(`${name} must be true or false (got '${raw}')`);
      return opts.default;
    },
  };
}

export function url(opts: { default?: string; protocols: readonly string[] }): Field<string> {
  return {
    read(name, raw, problems) {
      const value = present(raw) ? raw.trim() : opts.default;
      if (value === undefined) {
        problems.push(`${name} is required`);
        return '';
      }
      try {
        const parsed = new URL(value);
        if (!opts.protocols.includes(parsed.protocol)) {
          problems.push(`${name} must use ${opts.protocols.join(' or ')} (got '${parsed.protocol}')`);
        }
      } catch {
        problems.push(`${name} must be a URL (got '${redact(value)}')`);
      }
      return value;
    },
  };
}

export function list(opts: { default: string; itemPattern?: RegExp }): Field<string[]> {
  return {
    read(name, raw, problems) {
      const items = (present(raw) ? raw : opts.default).split(',').map((s) => s.trim()).filter(Boolean);
      if (items.length === 0) problems.push(`${name} must list at least one value`);
      for (const item of items) {
        if (opts.itemPattern && !opts.itemPattern.test(item)) problems.push(`${name} has an invalid entry '${item}'`);
      }
      return items;
    },
  };
}

export type Schema = Record<string, Field<unknown>>;
export type FromSchema<S extends Schema> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export function readEnv<S extends Schema>(schema: S, env: Env, problems: string[]): FromSchema<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(schema)) out[name] = field.read(name, env[name], problems);
  return out as FromSchema<S>;
}

/** Hides the password of a URL, so that a config error never prints a secret. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
