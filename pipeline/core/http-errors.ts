import type { FastifyInstance, FastifyReply } from 'fastify';
import { MeshwardError, mwError } from './errors.js';
import type { Logger } from './logger.js';
import { counter } from './metrics.js';

const httpErrors = counter('meshward_http_errors_total', 'HTTP answers with an error code', ['server', 'code']);

/** answers with the catalogue error's status and `{ code, message }` */
export function sendError(reply: FastifyReply, err: MeshwardError): FastifyReply {
  return reply.code(err.status).send(err.toJSON());
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  params?: { allowedValue?: unknown; additionalProperty?: unknown; type?: unknown };
  message?: string;
}

/**
 * A request that failed its route schema, said once per field and so that one can fix it: an enumeration lists its
 * values (`querystring/state must be one of open, acknowledged, resolved`) where Ajv says "must be equal to constant"
 * for each of them. Undefined when the error is not a validation error.
 */
export function validationMessage(error: unknown): string | undefined {
  const e = error as { validation?: ValidationIssue[]; validationContext?: string };
  if (!Array.isArray(e.validation) || e.validation.length === 0) return undefined;
  const byField = new Map<string, ValidationIssue[]>();
  for (const v of e.validation) byField.set(v.instancePath, [...(byField.get(v.instancePath) ?? []), v]);
  const parts: string[] = [];
  for (const [path, issues] of byField) {
    const field = `${e.validationContext ?? 'request'}${path}`;
    const allowed = issues.filter((v) => v.keyword === 'const').map((v) => String(v.params?.allowedValue));
    if (allowed.length > 0) {
      parts.push(`${field} must be one of ${allowed.join(', ')}`);
      continue;
    }
    // anyOf sums up its branches' errors; "must be null" is the branch of an optional body that has one
    const said = issues.filter((v) => v.keyword !== 'anyOf' && !(v.keyword === 'type' && v.params?.type === 'null'));
    for (const v of said.length > 0 ? said : issues)
      parts.push(
        v.keyword === 'additionalProperties'
          ? `${field} has no field ${v.params?.additionalProperty}`
          : `${field} ${v.message ?? 'is invalid'}`,
      );
  }
  return [...new Set(parts)].join('; ');
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
      else if (e.validation) err = mwError('BAD_REQUEST', validationMessage(error) ?? e.message);
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
