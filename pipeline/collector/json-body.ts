import type { FastifyInstance } from 'fastify';

/**
 * The collector reads every body as raw bytes (its own ingest splits JSON and NDJSON). Receivers that take JSON
 * documents (Kong http-log, IdP webhooks) call this inside their own plugin scope to parse JSON there, with
 * Fastify's parser refusing `__proto__` and `constructor.prototype` keys.
 */
export function parseJsonBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    app.getDefaultJsonParser('error', 'error'),
  );
}
