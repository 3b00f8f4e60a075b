import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { mwError } from '../core/errors.js';
import { catalogueServerOptions, installErrorHandler } from '../core/http-errors.js';
import type { Logger } from '../core/logger.js';
import { ROWS_CONTENT_TYPE, decodeRows } from '../core/record-rows.js';
import { addMetricsRoute } from '../core/probe-routes.js';
import { acceptEncodedBodies } from './body-encoding.js';
import type { RecordIngest } from './ingest.js';
import type { SensorAuth } from './sensor-auth.js';

export interface CollectorServerOptions {
  ingest: RecordIngest;
  auth: SensorAuth;
  logger: Logger;
  /** max request body in bytes (413 past it; default 5 MiB) */
  bodyLimit?: number;
  /** max records in one request (413 past it; default 10,000) */
  maxRecordsPerRequest?: number;
  /** reports the bus state for /healthz */
  busHealthy: () => boolean;
  /**
   * how long a whole request, body included, may take to arrive before it is refused (408; default 60 s,
   * `collector.request_timeout_seconds`)
   */
  requestTimeoutMs?: number;
}

/**
 * The collector's HTTP face. `POST /v1/records` takes a JSON array (or one object), NDJSON or rows, authenticated by a
 * sensor bearer token, and answers per record: `{ accepted, ids, rejected: [{ index, code, reason }] }`.
 */
export function createCollectorServer(opts: CollectorServerOptions): FastifyInstance {
  const bodyLimit = opts.bodyLimit ?? 5 * 1024 * 1024;
  const maxRecords = opts.maxRecordsPerRequest ?? 10_000;
  const app = Fastify({
    loggerInstance: opts.logger.child({ server: 'collector' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit,
    ...catalogueServerOptions('collector', opts.logger, opts.requestTimeoutMs ?? 60_000),
  });
  installErrorHandler(app, 'collector', opts.logger);

  acceptEncodedBodies(app);
  // Take bodies as bytes: a body that is not JSON still reaches the dead-letter topic with its original bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  app.post('/v1/records', async (request, reply) => {
    const sensorId = opts.auth.authenticate(request.headers.authorization);
    const body = request.body as Buffer | undefined;
    if (!body || body.length === 0) throw mwError('BAD_REQUEST', 'empty body');
    const items = splitBody(body, String(request.headers['content-type'] ?? ''));
    if (items.length > maxRecords) throw mwError('BATCH_TOO_LARGE', `${items.length} records, at most ${maxRecords}`);
    const result = await opts.ingest.ingest(items, { receiver: 'http', key: 'http', sensorId });
    return reply.code(200).send(result);
  });

  app.get('/healthz', async (_req, reply) => {
    const bus = opts.busHealthy();
    return reply.code(bus ? 200 : 503).send({ status: bus ? 'ok' : 'degraded', bus: bus ? 'up' : 'down' });
  });

  addMetricsRoute(app);
  return app;
}

/**
 * NDJSON: one item per non-empty line. JSON: an array gives its elements, an object is one item. Rows
 * (`application/vnd.meshward.rows+json`, core/record-rows.ts): a record per row. A JSON body that does not parse is
 * handed on whole as one raw item, so it is rejected with the reason and kept in the DLQ.
 */
export function splitBody(body: Buffer, contentType: string): unknown[] {
  if (contentType.includes('ndjson') || contentType.includes('jsonl')) {
    const items: Buffer[] = [];
    let start = 0;
    for (let i = 0; i <= body.length; i++) {
      if (i === body.length || body[i] === 0x0a) {
        const line = body.subarray(start, i);
        if (line.length > 0 && !(line.length === 1 && line[0] === 0x0d)) items.push(line);
        start = i + 1;
      }
    }
    return items;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return [body];
  }
  if (contentType.includes(ROWS_CONTENT_TYPE)) return decodeRows(parsed);
  return Array.isArray(parsed) ? parsed : [parsed];
}
