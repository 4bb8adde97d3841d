import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LIMITS } from '@loyalty/domain';
import { apiError } from './error.filter';

export type HttpRequest = FastifyRequest;
export type HttpReply = FastifyReply;

/**
 * The API's HTTP server: Fastify (it costs about half of Express' CPU per request, and the
 * hot reads are served by the thousand per second). Options that keep the old behaviour:
 * `/v1/rewards/` is `/v1/rewards`, and a long path parameter reaches validation (a 400
 * naming it) instead of Fastify's default 100-character cut-off (a 404).
 */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    logger: false,
    bodyLimit: LIMITS.messageMaxBytes,
    // Fastify turns Node's limit on receiving a request off: a client that trickles its
    // headers and body in (slowloris) is cut off after 30 s. Answers are not bounded by it.
    requestTimeout: 30_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    // A path that does not decode (%ZZ, %C0%AF) is refused before routing, in our error shape.
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void reply.code(status).send({ error: 'invalid_path', message: error.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoding' : 'the path could not be routed' });
    },
  });
}

const UTF8 = /^utf-?8$/i;

/**
 * Every body is one JSON object in UTF-8, at most 64 KiB (the largest the ledger takes is
 * a purchase message). Only `application/json` is parsed: any other media type is a 415,
 * an encoded body (gzip…) or another charset a 415, malformed JSON a 400, a larger body a
 * 413, all as {error, message}. GET and HEAD bodies are never read.
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: LIMITS.messageMaxBytes }, (req, body, done) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      done(apiError(415, 'unsupported_media_type', 'send the body unencoded (no Content-Encoding)'), undefined);
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !UTF8.test(charset)) {
      done(apiError(415, 'unsupported_media_type', 'send the body as UTF-8 JSON (Content-Type: application/json)'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(apiError(400, 'invalid_json', 'the request body is not valid JSON'), undefined);
    }
  });
}
