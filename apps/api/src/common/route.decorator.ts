import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { Public, RequiresRole, type Role } from '../auth/api-key.guard';
import { ErrorBody } from './response.dto';

const ERROR_TEXT: Record<number, string> = {
  400: 'bad input: malformed JSON, a wrong or unknown field, parameter or query key (details.fields names them)',
  401: 'no API key, or an unknown or revoked one',
  403: "the key's role may not call this route",
  404: 'not found',
  409: 'conflict',
  413: 'request body larger than 64 KiB',
  422: 'refused by the programme rules',
  429: 'rate limit of this API key reached; see the Retry-After header',
  503: 'a dependency is unavailable, or (commands) the outcome is not known yet: details.outcomeUrl',
};

export const API_KEY_SCHEME = 'api-key';

/**
 * One route's access and documentation: the role it needs (enforced by ApiKeyGuard),
 * the bearer scheme, `x-required-role`, and the error responses every guarded route can
 * give (400, 401, 403, 429) plus those it names. Every error body is ErrorBody.
 */
export function Route(role: Role | 'public', summary: string, opts: { errors?: number[]; description?: string } = {}) {
  const errors = new Set([400, ...(role === 'public' ? [] : [401, 403, 429]), ...(opts.errors ?? [])]);
  const access = role === 'public' ? 'No API key needed.' : `Needs an API key with the **${role}** role${role === 'reader' ? ' (any key)' : role === 'admin' ? '' : ' (or admin)'}.`;
  return applyDecorators(
    role === 'public' ? Public() : RequiresRole(role),
    ApiOperation({ summary, description: [access, opts.description].filter(Boolean).join('\n\n') }),
    ApiExtension('x-required-role', role),
    ...(role === 'public' ? [] : [ApiBearerAuth(API_KEY_SCHEME)]),
    ...[...errors].sort().map((status) => ApiResponse({ status, description: ERROR_TEXT[status] ?? 'error', type: ErrorBody })),
  );
}
