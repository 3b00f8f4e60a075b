import { redactorOf } from '../../../sensors/common/redact-config.js';
import { parseJsonBodies } from '../../collector/json-body.js';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../../sensors/common/load-config.js';
import { bearerTokenMatcher, tokenHasher } from '../../../sensors/common/token-hash.js';
import { readTokenHashKey } from '../../../sensors/common/token-hash-key.js';
import { type IngestResult, type RecordIngest, UnmappedItem } from '../../collector/ingest.js';
import { MeshwardError, mwError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { counter } from '../../core/metrics.js';
import { type KongHttpLogConfig, KongHttpLogConfigSchema } from './config.js';
import { type KongMapContext, mapKongEntry } from './kong-mapper.js';

export interface KongHttpLogOptions {
  /** snake_case config (KongHttpLogConfigSchema) */
  config?: unknown;
  ingest: RecordIngest;
  logger?: Logger;
  /**
   * the key the receiver is declared under in the `receivers:` section (`kong_http_log`, `kong_http_log/edge`;
   * default `kong_http_log`), which its config errors name as the operator wrote it
   * (`receivers.kong_http_log/edge.token_hash_key_file: …`)
   */
  key?: string;
}

const entriesTotal = () =>
  counter('meshward_kong_entries_total', 'Kong http-log entries received, by outcome', ['receiver', 'outcome']);

/**
 * `POST /v1/kong/http-log` (the config's `path`): the target of Kong's http-log plugin (`http_endpoint`), one entry or a batch (Kong's
 * queue sends a JSON array). Entries become ApiCallRecords for the RecordIngest; the callers' Authorization headers
 * only survive as keyed hashes. Entries that are no Kong log entry, and a body that is not JSON, go to the
 * dead-letter topic with the reason, as the collector's records do. Answers 200 `{accepted, rejected}`; 429 / 503
 * when the pipeline cannot take the batch (Kong's queue retries), 401 without the configured token, 413 past
 * max_batch. meshward_kong_entries_total counts entries by outcome: accepted, invalid, unavailable, and those of a
 * batch refused as a whole, unauthenticated or batch_too_large. A refusal is thrown, not sent: the server's error
 * handler (the collector's, `installErrorHandler`) answers it with its catalogue code and counts it, once, in
 * meshward_http_errors_total, as it does the server's own refusals (body too large, content type).
 */
export async function kongHttpLogPlugin(fastify: FastifyInstance, opts: KongHttpLogOptions): Promise<void> {
  const where = `receivers.${opts.key ?? 'kong_http_log'}`;
  const config: KongHttpLogConfig = loadConfig(KongHttpLogConfigSchema, opts.config, where);
  const logger = opts.logger ?? silentLogger;
  const entries = entriesTotal();
  const authorized = bearerTokenMatcher(config.tokens);
  const ctx: KongMapContext = {
    sensorId: config.sensor_id,
    serviceFallback: config.service_fallback,
    hash: tokenHasher(readTokenHashKey(config, where)),
    redactor: redactorOf(config),
    queryParams: config.query_params,
    headerTags: config.header_tags,
  };
  const origin = { receiver: 'kong', key: opts.key ?? 'kong_http_log', sensorId: config.sensor_id };

  parseJsonBodies(fastify, config.body_limit);
  fastify.post(config.path, { bodyLimit: config.body_limit }, async (request) => {
    const body = request.body;
    // a body that is not JSON arrives as its bytes: the ingest dead-letters it whole
    const items = Array.isArray(body) ? body : [body];
    // a refused batch is counted: Kong retries it, then drops it, and nothing else here would show it
    if (!authorized(request.headers.authorization)) {
      entries.inc({ receiver: config.sensor_id, outcome: 'unauthenticated' }, items.length);
      throw mwError('UNAUTHENTICATED', 'a valid bearer token is required');
    }
    if (items.length > config.max_batch) {
      entries.inc({ receiver: config.sensor_id, outcome: 'batch_too_large' }, items.length);
      throw mwError('BATCH_TOO_LARGE', `${items.length} entries, at most ${config.max_batch}`);
    }
    const batch = items.map((item) => {
      if (Buffer.isBuffer(item)) return item;
      const r = mapKongEntry(item, ctx);
      return r.ok ? r.record : new UnmappedItem(item, 'MW_ERR_RECORD_INVALID', r.reason);
    });
    let result: IngestResult;
    try {
      result = await opts.ingest.ingest(batch, origin);
    } catch (err) {
      entries.inc({ receiver: config.sensor_id, outcome: 'unavailable' }, batch.length);
      if (err instanceof MeshwardError) throw err;
      logger.error({ err: (err as Error).message }, 'kong http-log ingest failed');
      throw mwError('INTERNAL', 'ingest failed', undefined, err);
    }
    const { accepted, rejected } = result;
    if (rejected.length > 0) entries.inc({ receiver: config.sensor_id, outcome: 'invalid' }, rejected.length);
    if (accepted > 0) entries.inc({ receiver: config.sensor_id, outcome: 'accepted' }, accepted);
    return { accepted, rejected };
  });
}
