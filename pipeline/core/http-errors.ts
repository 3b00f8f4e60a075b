import type { FastifyInstance, FastifyReply } from 'fastify';
import { MeshwardError, mwError } from './errors.js';
import type { Logger } from './logger.js';
import { counter } from './metrics.js';

const httpErrors = counter('meshward_http_errors_total', 'HTTP answers with an error code', ['server', 'code']);

/** answers with the catalogue error's status and `{ code, message }` */
export function sendError(reply: FastifyReply, err: MeshwardError): FastifyReply {
  return reply.code(err.status).send(err.toJSON());
}

/**
 * Installs the catalogue as the server's error handler: MeshwardErrors keep their code and status, Fastify's own
 * errors (body too large, bad content type, validation) are mapped to catalogue codes, anything else is a logged 500.
 */
export function installErrorHandler(app: FastifyInstance, server: string, logger: Logger): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    let err: MeshwardError;
    if (error instanceof MeshwardError) err = error;
    else {
      const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') err = mwError('BODY_TOO_LARGE');
      else if (e.validation) err = mwError('BAD_REQUEST', e.message);
      else if (e.statusCode === 429) err = mwError('RATE_LIMITED');
      else if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) err = mwError('BAD_REQUEST', e.message);
      else {
        logger.error({ err: error, url: request.url }, 'unhandled error');
        err = mwError('INTERNAL');
      }
    }
    httpErrors.inc({ server, code: err.code });
    sendError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => {
    sendError(reply, mwError('NOT_FOUND', 'no such route'));
  });
}
