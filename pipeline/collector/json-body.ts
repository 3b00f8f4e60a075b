import type { FastifyInstance } from 'fastify';

/**
 * The collector reads every body as raw bytes (its own ingest splits JSON and NDJSON). Receivers that take JSON
 * documents (Kong http-log, IdP webhooks) call this inside their own plugin scope to parse JSON there. A body that is
 * not JSON is handed on as its bytes (a Buffer, which no JSON document parses to): the route passes it to the ingest,
 * which dead-letters it with the reason, as the collector does with its own bodies.
 *
 * `__proto__` and `constructor` keys are kept as the plain data JSON.parse makes of them (own properties, which pollute
 * nothing), as the collector reads its own bodies: they are the caller's text (a query parameter named `__proto__`
 * in a Kong entry), and refusing the body for them would lose every other entry or event in it. Code that copies keys
 * from a parsed body into another object must define them (`Object.defineProperty`), not assign them.
 */
export function parseJsonBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('ignore', 'ignore');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, raw, done) => {
    const body = raw as Buffer;
    parseJson(request, body.toString('utf8'), (err, value) => {
      if (err && (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') done(null, body);
      else done(err, value);
    });
  });
}
