import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { LIMITS } from '@loyalty/domain';
import { apiError } from './error.filter';
import { BalanceQuery, BoardParams, BoardMemberParams, LeaderboardQuery, MemberParams, PeriodQuery } from './request.dto';

function flatten(errors: ValidationError[], parent = ''): Array<{ field: string; problems: string[] }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field: field.slice(0, 200), problems: Object.values(e.constraints).map((p) => p.slice(0, 300)) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Nesting deeper than any DTO needs is refused before class-transformer walks it (no stack overflows). */
const MAX_DEPTH = 8;
/** Keys class-transformer skips silently (so whitelisting never sees them): refused outright. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first problem of a raw value that the DTO rules cannot see, or undefined. */
function inspect(value: unknown, where: string, depth = 0): { field: string; problem: string } | undefined {
  if (typeof value === 'string') {
    // Postgres text cannot hold NUL: an id with one would be accepted here and break a projection later.
    return value.includes('\u0000') ? { field: where, problem: `${where} must not contain NUL characters` } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return { field: where, problem: `the request is nested deeper than ${MAX_DEPTH} levels` };
  for (const key of Object.keys(value)) {
    const field = (where ? `${where}.${key}` : key).slice(0, 200);
    if (RESERVED_KEYS.has(key)) return { field, problem: `property ${field} should not exist` };
    if (key.includes('\u0000')) return { field: field.replace(/\u0000/g, '\\0'), problem: 'property names must not contain NUL characters' };
    const found = inspect((value as Record<string, unknown>)[key], field, depth + 1);
    if (found) return found;
  }
  return undefined;
}

// Fast paths for the parameters and query strings of the hot GET routes (balance, boards):
// class-transformer and class-validator cost more than the rest of such a request. Each
// accepts only what the DTO's rules surely accept, with the same result (strings, and
// integers from decimal strings as IntString makes them); anything else, valid or not,
// goes through the full pipe, which gives the usual 400 naming the field.
type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Only the allowed keys (whitelist + forbidNonWhitelisted). */
const onlyKeys = (v: Plain, allowed: readonly string[]) => {
  for (const k in v) if (!allowed.includes(k)) return false;
  return true;
};
/** A string of 1..max UTF-16 units: 1..max code points too, so @Length(1, max) accepts it. */
const str = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max;
/** A decimal string within [min, max] (IntString + @IsInt @Min @Max), or undefined when not surely valid. */
const int = (v: unknown, min: number, max: number): number | undefined => {
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= min && n <= max ? n : undefined;
};
const PERIOD_RE = /^(all|\d{4}-(0[1-9]|1[0-2]))$/;
const FAST = new Map<unknown, (v: unknown) => Plain | undefined>([
  [MemberParams, (v) => (isPlain(v) && onlyKeys(v, ['id']) && str(v.id, LIMITS.idMaxLength) ? { id: v.id } : undefined)],
  [BoardParams, (v) => (isPlain(v) && onlyKeys(v, ['board']) && str(v.board, 32) ? { board: v.board } : undefined)],
  [BoardMemberParams, (v) => (isPlain(v) && onlyKeys(v, ['board', 'id']) && str(v.board, 32) && str(v.id, LIMITS.idMaxLength) ? { board: v.board, id: v.id } : undefined)],
  [BalanceQuery, (v) => {
    if (!isPlain(v) || !onlyKeys(v, ['minSequence'])) return undefined;
    if (v.minSequence === undefined) return {};
    const n = int(v.minSequence, 0, Number.MAX_SAFE_INTEGER);
    return n === undefined ? undefined : { minSequence: n };
  }],
  ...[PeriodQuery, LeaderboardQuery].map((dto) => [dto, (v: unknown) => {
    if (!isPlain(v) || !onlyKeys(v, dto === LeaderboardQuery ? ['period', 'limit'] : ['period'])) return undefined;
    const out: Plain = {};
    if (v.period !== undefined) {
      if (typeof v.period !== 'string' || !PERIOD_RE.test(v.period)) return undefined;
      out.period = v.period;
    }
    if (v.limit !== undefined) {
      const n = int(v.limit, 1, 1000);
      if (n === undefined) return undefined;
      out.limit = n;
    }
    return out;
  }] as const),
]);

/**
 * Bodies, path parameters and query strings are DTO classes: unknown fields refused,
 * types checked, 400 naming every bad field. A route that takes a body gets one:
 * no body (or not JSON) is a 400 saying so, never an empty object.
 */
class ApiValidationPipe extends ValidationPipe {
  // Not async: a parameter or query string the fast path takes is answered at once (a
  // promise fewer per parameter, on every request); anything else goes to `transformFully`.
  override transform(value: unknown, metadata: ArgumentMetadata): any {
    if ((metadata.type === 'param' || metadata.type === 'query') && metadata.metatype) {
      const fast = FAST.get(metadata.metatype);
      if (fast && inspect(value, '') === undefined) {
        const ok = fast(value);
        if (ok) return Object.assign(new (metadata.metatype as new () => object)(), ok);
      }
    }
    return this.transformFully(value, metadata);
  }

  private async transformFully(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw apiError(400, 'invalid_request', 'the request body must be a JSON object (Content-Type: application/json)');
      }
    }
    if (metadata.type === 'body' || metadata.type === 'param' || metadata.type === 'query') {
      const found = inspect(value, '');
      if (found) throw apiError(400, 'invalid_request', found.problem, { fields: [{ field: found.field, problems: [found.problem] }] });
    }
    return super.transform(value, metadata);
  }
}

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fields = flatten(errors).slice(0, 50);
      const message = fields.map((f) => f.problems.join('; ')).join('; ') || 'invalid request';
      return apiError(400, 'invalid_request', message.slice(0, 2000), { fields });
    },
  });
}
