import { ArgumentsHost, Catch, HttpException, HttpStatus, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

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
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** Every error leaves as `{error, message, details?}`; internals never reach the client. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const out: ErrorBody =
        typeof body === 'object' && body !== null && 'error' in body && 'message' in body && typeof (body as ErrorBody).message === 'string'
          ? (body as ErrorBody)
          : {
              error: names[status] ?? 'error',
              message: typeof body === 'string' ? body : Array.isArray((body as { message?: unknown }).message)
                ? ((body as { message: string[] }).message).join('; ')
                : String((body as { message?: unknown }).message ?? exception.message),
            };
      res.status(status).json(out);
      return;
    }
    // Body-parser errors (bad JSON, too large) carry a status of their own.
    const status = (exception as { status?: number; statusCode?: number })?.status ?? (exception as { statusCode?: number })?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: names[status] ?? 'bad_request', message: (exception as Error).message });
      return;
    }
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ error: 'internal', message: 'internal error' });
  }
}

export function apiError(status: number, error: string, message: string, details?: unknown): HttpException {
  return new HttpException({ error, message, ...(details === undefined ? {} : { details }) }, status);
}
