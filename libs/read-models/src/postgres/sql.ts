// Small helpers shared by the Postgres side: a minimal client type, identifier
// quoting, and the one place where bigint strings become numbers.

/** Anything with pg's `query`: a pg.Client or a pg.PoolClient (NOT a Pool when a transaction is involved). */
export interface Queryable {
  query<R = any>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(name)) throw new RangeError(`not a plain SQL identifier: ${name}`);
  return `"${name}"`;
}

/** `"schema".` or '' (unqualified: resolved through the session's search_path). */
export function schemaPrefix(schema: string | undefined): string {
  return schema ? `${quoteIdent(schema)}.` : '';
}

/**
 * pg returns bigint / numeric as strings. Points totals fit in 2^53; money totals
 * almost always do. Convert here, and refuse (RangeError) rather than round.
 */
export function int(v: string | number | bigint | null | undefined): number {
  if (v === null || v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer outside the safe range: ${String(v)}`);
  return n;
}

export function intOrNull(v: string | number | null | undefined): number | null {
  return v === null || v === undefined ? null : int(v);
}

export function isoOrNull(v: Date | string | null | undefined): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : new Date(v).toISOString();
}

/** A ratio as a plain number (0 when the denominator is 0). */
export function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}
