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
function tooDeep(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (depth >= MAX_DEPTH) return true;
  for (const v of Object.values(value as object)) if (tooDeep(v, depth + 1)) return true;
  return false;
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
      if (tooDeep(value)) throw apiError(400, 'invalid_request', `the request body is nested deeper than ${MAX_DEPTH} levels`);
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
