import { ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { apiError } from './error.filter';

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

/**
 * Bodies, path parameters and query strings are DTO classes: unknown fields refused,
 * types checked, 400 naming every bad field. A route that takes a body gets one:
 * no body (or not JSON) is a 400 saying so, never an empty object.
 */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
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
