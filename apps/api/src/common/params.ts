import { apiError } from './error.filter';

/** Parses an optional integer query parameter within bounds; 400 naming the parameter otherwise. */
export function intParam(name: string, raw: string | undefined, opts: { min: number; max: number; default?: number }): number | undefined {
  if (raw === undefined || raw === '') return opts.default;
  if (!/^-?\d{1,16}$/.test(raw) || Number(raw) < opts.min || Number(raw) > opts.max) {
    throw apiError(400, 'invalid_parameter', `${name} must be an integer from ${opts.min} to ${opts.max}`, { field: name });
  }
  return Number(raw);
}

export function memberIdParam(id: string): string {
  if (id.length < 1 || id.length > 128) throw apiError(400, 'invalid_parameter', 'memberId must be 1 to 128 characters', { field: 'memberId' });
  return id;
}

export function periodParam(raw: string | undefined): string {
  const period = raw ?? 'all';
  if (period !== 'all' && !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) {
    throw apiError(400, 'invalid_parameter', 'period must be all or YYYY-MM', { field: 'period' });
  }
  return period;
}

export function dateParam(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(Date.parse(`${raw}T00:00:00Z`))) {
    throw apiError(400, 'invalid_parameter', `${name} must be a date YYYY-MM-DD`, { field: name });
  }
  return raw;
}
