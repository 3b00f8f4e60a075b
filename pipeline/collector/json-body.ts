import type { FastifyInstance } from 'fastify';

/**
 * The collector reads every body as raw bytes (its own ingest splits JSON and NDJSON). Receivers that take JSON
 * documents (Kong http-log, IdP webhooks) call this inside their own plugin scope to parse JSON there, with
 * Fastify's parser refusing `__proto__` and `constructor.prototype` keys. A body that is not JSON is handed on as its
 * bytes (a Buffer, which no JSON document parses to): the route passes it to the ingest, which dead-letters it with
 * the reason, as the collector does with its own bodies.
 */
export function parseJsonBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, raw, done) => {
    const body = raw as Buffer;
    parseJson(request, body.toString('utf8'), (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY' && !isJson(body)) {
        done(null, body);
      } else done(err, value);
    });
  });
}

/** whether JSON.parse reads the bytes: Fastify's parser also refuses JSON with prototype keys, which stays a 400 */
function isJson(body: Buffer): boolean {
  try {
    JSON.parse(body.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}
