import { ArgumentsHost, Catch, HttpException, HttpStatus, Inject, Optional, type ExceptionFilter } from '@nestjs/common';
import type { HttpReply, HttpRequest } from './http-server';
import type { Logger } from '@loyalty/config';
import { LIMITS } from '@loyalty/domain';
import { LOGGER } from '../infrastructure/tokens';

export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

const names: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** Clearer words for Fastify's own refusals, which Nest turns into HttpException(its message, status). */
const FRAMEWORK_MESSAGES: Record<number, string> = {
  413: `the request body is larger than ${LIMITS.messageMaxBytes} bytes`,
  415: 'send the body as UTF-8 JSON (Content-Type: application/json)',
};

/** Any other 4xx a library raises with a status of its own. Its message is the library's text, never the request's content. */
function libraryError(exception: unknown): ErrorBody & { status: number } | undefined {
  const e = exception as { status?: number; statusCode?: number; message?: string };
  const status = e?.statusCode ?? e?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return { status, error: names[status] ?? 'bad_request', message: e.message ?? 'bad request' };
}

/**
 * Ours (apiError) pass as they are; Nest's own ({statusCode, message, error}: an unknown
 * route) and Fastify's (a string) are put in the same shape, with codes a client can act on.
 */
function errorBodyOf(exception: HttpException, status: number): ErrorBody {
  const body = exception.getResponse() as string | { error?: unknown; message?: unknown; statusCode?: unknown; details?: unknown };
  if (typeof body === 'object' && body !== null && typeof body.error === 'string' && typeof body.message === 'string' && body.statusCode === undefined) {
    return body as ErrorBody;
  }
  if (typeof body === 'string' && FRAMEWORK_MESSAGES[status]) return { error: names[status], message: FRAMEWORK_MESSAGES[status] };
  const raw = typeof body === 'string' ? body : Array.isArray(body?.message) ? body.message.join('; ') : String(body?.message ?? exception.message);
  return { error: names[status] ?? 'error', message: raw.slice(0, 500) };
}

/** Every error leaves as `{error, message, details?}`; internals never reach the client (they are logged, without headers). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(LOGGER) private readonly logger?: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<HttpReply>();
    if (reply.sent) return;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const out = errorBodyOf(exception, status);
      if (status >= 500) this.log(exception, host, status);
      void reply.code(status).send(out);
      return;
    }
    const library = libraryError(exception);
    if (library) {
      const { status, ...out } = library;
      void reply.code(status).send(out);
      return;
    }
    this.log(exception, host, 500);
    void reply.code(HttpStatus.INTERNAL_SERVER_ERROR).send({ error: 'internal', message: 'internal error' });
  }

  private log(exception: unknown, host: ArgumentsHost, status: number): void {
    const req = host.switchToHttp().getRequest<HttpRequest>();
    // Method and route pattern only: never headers (API keys), bodies or query strings.
    this.logger?.error('request failed', {
      status,
      method: req.method,
      route: req.routeOptions?.url ?? '(no route)',
      error: (exception as Error)?.message,
      stack: (exception as Error)?.stack,
    });
  }
}

export function apiError(status: number, error: string, message: string, details?: unknown): HttpException {
  return new HttpException({ error, message, ...(details === undefined ? {} : { details }) }, status);
}

/** The one answer of every member route for a member the read model does not know (yet). */
export function unknownMember(memberId: string): HttpException {
  return apiError(404, 'not_found', 'this member is unknown', { memberId });
}
