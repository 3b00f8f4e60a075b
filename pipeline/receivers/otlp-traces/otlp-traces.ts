import { redactorOf } from '../../../sensors/common/redact-config.js';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../../sensors/common/load-config.js';
import { bearerTokenMatcher, tokenHasher } from '../../../sensors/common/token-hash.js';
import { readTokenHashKey } from '../../../sensors/common/token-hash-key.js';
import { type IngestResult, type RecordIngest, UnmappedItem } from '../../collector/ingest.js';
import { MeshwardError, mwError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import { counter } from '../../core/metrics.js';
import { type OtlpTracesConfig, OtlpTracesConfigSchema, otlpTracesConfigProblem } from './config.js';
import { otlpFailureBody } from './otlp-failures.js';
import {
  JSON_TYPE,
  type OtlpRequest,
  type OtlpSpan,
  PROTOBUF,
  decodeJsonRequest,
  decodeProtobufRequest,
  encodeProtobufResponse,
  jsonResponse,
  mediaType,
} from './otlp-protocol.js';
import { type SpanMapContext, attributesOf, mapSpan, resourceService, spanRef } from './span-mapper.js';

export interface OtlpTracesOptions {
  /** snake_case config (OtlpTracesConfigSchema) */
  config?: unknown;
  ingest: RecordIngest;
  logger?: Logger;
  /** the key the receiver is declared under in the `receivers:` section (`otlp_traces`, `otlp_traces/mesh`) */
  key?: string;
}

const spansTotal = () =>
  counter('meshward_otlp_spans_total', 'OTLP spans received, by outcome and reason', ['receiver', 'outcome', 'reason']);
const requestsTotal = () =>
  counter('meshward_otlp_requests_total', 'OTLP/HTTP export requests, by outcome', ['receiver', 'outcome']);

const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** the spans of a request with the service their resource names, in order */
function spansOf(request: OtlpRequest): { span: OtlpSpan; service: string | undefined }[] {
  const out: { span: OtlpSpan; service: string | undefined }[] = [];
  for (const rs of list<NonNullable<OtlpRequest['resourceSpans']>[number]>(request.resourceSpans)) {
    if (!rs || typeof rs !== 'object') continue;
    const service = resourceService(attributesOf(rs.resource?.attributes));
    for (const ss of list<{ spans?: OtlpSpan[] }>(rs.scopeSpans)) {
      if (!ss || typeof ss !== 'object') continue;
      for (const span of list<OtlpSpan>(ss.spans)) out.push({ span, service });
    }
  }
  return out;
}

/**
 * `POST /v1/traces` (the config's `path`): the OTLP/HTTP trace endpoint on the collector, for an OpenTelemetry
 * Collector's `otlphttp` exporter (or an SDK's) fanning out to meshward. Takes `application/x-protobuf` and
 * `application/json` (OTLP/JSON), gzip-encoded or not (the collector decompresses every body). SERVER spans with an
 * HTTP method become ApiCallRecords for the RecordIngest (span-mapper.ts); the other spans are skipped, and counted.
 * Answers 200 with an ExportTraceServiceResponse in the request's encoding, its partial_success naming the spans
 * rejected (an HTTP server span without a path, or a record the ingest refused: dead-lettered with the reason);
 * 401 without a configured token, 415 for another content type, 400 for a body that does not decode, 413 past the
 * body limit or max_spans, 429 / 503 with Retry-After when the pipeline cannot take the spans (the exporter retries).
 * Refusals are thrown: the collector's error handler answers them with their catalogue code and counts them in
 * meshward_http_errors_total, and the route's onSend hook (otlp-failures.ts) writes that answer as the google.rpc.Status
 * OTLP/HTTP asks for, in the request's encoding. meshward_otlp_requests_total counts requests by outcome,
 * meshward_otlp_spans_total spans by outcome (accepted, skipped, rejected, unavailable) and reason.
 */
export async function otlpTracesPlugin(fastify: FastifyInstance, opts: OtlpTracesOptions): Promise<void> {
  const where = `receivers.${opts.key ?? 'otlp_traces'}`;
  const config: OtlpTracesConfig = loadConfig(OtlpTracesConfigSchema, opts.config, where);
  const problem = otlpTracesConfigProblem(config);
  if (problem) throw mwError('CONFIG_INVALID', `${where}: ${problem}`);
  const logger = opts.logger ?? silentLogger;
  const spans = spansTotal();
  const requests = requestsTotal();
  const receiver = config.sensor_id;
  const authorized = bearerTokenMatcher(config.tokens);
  const hasKey = Boolean(config.token_hash_key || config.token_hash_key_file);
  const ctx: SpanMapContext = {
    sensorId: config.sensor_id,
    serviceFallback: config.service_fallback,
    hash: hasKey ? tokenHasher(readTokenHashKey(config, where)) : undefined,
    redactor: redactorOf(config),
    queryParams: config.query_params,
  };
  const origin = { receiver: 'otlp', key: opts.key ?? 'otlp_traces', sensorId: config.sensor_id };

  // bodies as bytes, whatever their type: the route decides (415 for a type it does not take)
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.body_limit }, (_req, body, done) =>
    done(null, body),
  );

  fastify.post(config.path, { bodyLimit: config.body_limit, onSend: otlpFailureBody }, async (request, reply) => {
    if (!authorized(request.headers.authorization)) {
      requests.inc({ receiver, outcome: 'unauthenticated' });
      throw mwError('UNAUTHENTICATED', 'a valid bearer token is required');
    }
    const type = mediaType(request.headers['content-type']);
    if (type !== PROTOBUF && type !== JSON_TYPE) {
      requests.inc({ receiver, outcome: 'unsupported_media_type' });
      throw mwError('UNSUPPORTED_MEDIA_TYPE', `send ${PROTOBUF} or ${JSON_TYPE} (OTLP/HTTP)`);
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let decoded: OtlpRequest;
    try {
      decoded = type === PROTOBUF ? decodeProtobufRequest(body) : decodeJsonRequest(body);
    } catch (err) {
      requests.inc({ receiver, outcome: 'undecodable' });
      // protobufjs says where the bytes went wrong; JSON.parse would quote the body, which may hold secrets
      const why = type === PROTOBUF ? `: ${(err as Error).message}` : '';
      logger.debug({ receiver, type, bytes: body.length }, 'OTLP body does not decode');
      throw mwError('BAD_REQUEST', `the body is not an OTLP ExportTraceServiceRequest${why}`.slice(0, 300));
    }
    const all = spansOf(decoded);
    if (all.length > config.max_spans) {
      requests.inc({ receiver, outcome: 'too_many_spans' });
      throw mwError('BATCH_TOO_LARGE', `${all.length} spans, at most ${config.max_spans}`);
    }

    const batch: unknown[] = [];
    /** per batch item, the reason it was rejected by the mapper (undefined: a record the ingest checks) */
    const mapperReasons: (string | undefined)[] = [];
    const skipped = new Map<string, number>();
    for (const { span, service } of all) {
      let result: ReturnType<typeof mapSpan>;
      try {
        result =
          span && typeof span === 'object'
            ? mapSpan(span, service, ctx)
            : { outcome: 'rejected', reason: 'malformed', detail: 'the span is not an object' };
      } catch {
        result = { outcome: 'rejected', reason: 'malformed', detail: 'the span could not be read' };
      }
      if (result.outcome === 'skipped') {
        skipped.set(result.reason, (skipped.get(result.reason) ?? 0) + 1);
      } else if (result.outcome === 'record') {
        batch.push(result.record);
        mapperReasons.push(undefined);
      } else {
        const item = { otlpSpan: spanRef(span), reason: result.reason };
        batch.push(new UnmappedItem(item, 'MW_ERR_RECORD_INVALID', `${result.reason}: ${result.detail}`));
        mapperReasons.push(result.reason);
      }
    }
    for (const [reason, n] of skipped) spans.inc({ receiver, outcome: 'skipped', reason }, n);

    let result: IngestResult = { accepted: 0, ids: [], rejected: [] };
    if (batch.length > 0) {
      try {
        result = await opts.ingest.ingest(batch, origin);
      } catch (err) {
        spans.inc({ receiver, outcome: 'unavailable', reason: '' }, batch.length);
        requests.inc({ receiver, outcome: 'unavailable' });
        if (err instanceof MeshwardError) throw err;
        logger.error({ err: (err as Error).message }, 'OTLP traces ingest failed');
        throw mwError('INTERNAL', 'ingest failed', undefined, err);
      }
    }
    const rejected = new Map<string, number>();
    for (const r of result.rejected) {
      const reason = mapperReasons[r.index] ?? 'invalid';
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    }
    for (const [reason, n] of rejected) spans.inc({ receiver, outcome: 'rejected', reason }, n);
    if (result.accepted > 0) spans.inc({ receiver, outcome: 'accepted', reason: '' }, result.accepted);
    requests.inc({ receiver, outcome: 'ok' });

    const count = result.rejected.length;
    const message =
      count === 0
        ? ''
        : `${count} of ${all.length} spans rejected (${[...rejected].map(([r, n]) => `${n} ${r}`).join(', ')}): ${result.rejected[0].reason}`.slice(
            0,
            1024,
          );
    if (count > 0) logger.debug({ receiver, rejected: Object.fromEntries(rejected) }, 'OTLP spans rejected');
    if (type === PROTOBUF)
      return reply
        .code(200)
        .type(PROTOBUF)
        .send(Buffer.from(encodeProtobufResponse(count, message)));
    return reply.code(200).type(JSON_TYPE).send(jsonResponse(count, message));
  });
}
