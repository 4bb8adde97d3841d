import { ArgumentsHost, Catch, HttpException, HttpStatus, Inject, Optional, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from '@loyalty/config';
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

/** Errors raised by Express and body-parser before a route runs, by their `type`. */
function frameworkError(exception: unknown): ErrorBody & { status: number } | undefined {
  const e = exception as { status?: number; statusCode?: number; type?: string; limit?: number; message?: string };
  const status = e?.status ?? e?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, error: 'invalid_json', message: 'the request body is not valid JSON' };
    case 'entity.too.large':
      return { status: 413, error: 'payload_too_large', message: `the request body is larger than ${e.limit ?? 'the limit of'} bytes` };
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return { status: 415, error: 'unsupported_media_type', message: 'send the body as UTF-8 JSON (Content-Type: application/json)' };
    default:
      // e.g. a path that does not decode (%ZZ), an aborted or mis-sized body. Messages of
      // these errors are the framework's own text, never the request's content.
      return { status, error: names[status] ?? 'bad_request', message: status === 400 && exception instanceof URIError ? 'the path is not valid percent-encoding' : (e.message ?? 'bad request') };
  }
}

/**
 * Ours (apiError) pass as they are; Nest's own ({statusCode, message, error}: unknown
 * route, and body-parser's SyntaxError / Express' URIError that Nest maps to a 400) are
 * put in the same shape, with codes a client can act on.
 */
function errorBodyOf(exception: HttpException, status: number): ErrorBody {
  const body = exception.getResponse() as string | { error?: unknown; message?: unknown; statusCode?: unknown; details?: unknown };
  if (typeof body === 'object' && body !== null && typeof body.error === 'string' && typeof body.message === 'string' && body.statusCode === undefined) {
    return body as ErrorBody;
  }
  const raw = typeof body === 'string' ? body : Array.isArray(body?.message) ? body.message.join('; ') : String(body?.message ?? exception.message);
  if (status === 400 && /JSON/.test(raw)) return { error: 'invalid_json', message: 'the request body is not valid JSON' };
  if (status === 400 && /^Failed to decode param/.test(raw)) return { error: 'invalid_parameter', message: 'a path parameter is not valid percent-encoding' };
  return { error: names[status] ?? 'error', message: raw.slice(0, 500) };
}

/** Every error leaves as `{error, message, details?}`; internals never reach the client (they are logged, without headers). */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(LOGGER) private readonly logger?: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const out = errorBodyOf(exception, status);
      if (status >= 500) this.log(exception, host, status);
      res.status(status).json(out);
      return;
    }
    const framework = frameworkError(exception);
    if (framework) {
      const { status, ...out } = framework;
      res.status(status).json(out);
      return;
    }
    this.log(exception, host, 500);
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ error: 'internal', message: 'internal error' });
  }

  private log(exception: unknown, host: ArgumentsHost, status: number): void {
    const req = host.switchToHttp().getRequest<Request>();
    // Method and route pattern only: never headers (API keys), bodies or query strings.
    this.logger?.error('request failed', {
      status,
      method: req.method,
      route: (req.route as { path?: string } | undefined)?.path ?? '(no route)',
      error: (exception as Error)?.message,
      stack: (exception as Error)?.stack,
    });
  }
}

export function apiError(status: number, error: string, message: string, details?: unknown): HttpException {
  return new HttpException({ error, message, ...(details === undefined ? {} : { details }) }, status);
}
