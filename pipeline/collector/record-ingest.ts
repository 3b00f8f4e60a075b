import { TypeCompiler } from '@sinclair/typebox/compiler';
import { TOPICS, type Bus, type OutMessage } from '../bus/bus.js';
import { bundles, type KeyedStream } from '../bus/keyed-streams.js';
import { MeshwardError, mwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import { type ApiCallRecord, ApiCallRecordSchema } from '../core/record.js';
import { type BoundedField, boundRecord, type CutKind } from '../core/record-bounds.js';
import { inSpan, traceHeaders } from '../core/tracing.js';
import {
  type IngestOrigin,
  type IngestRejection,
  type IngestResult,
  type RecordIngest,
  UnmappedItem,
} from './ingest.js';
import { scrubPathQuery, scrubRawText, scrubSecrets } from './secret-scrub.js';
import { type SensorActivity, sensorKey } from './sensor-activity.js';

const check = TypeCompiler.Compile(ApiCallRecordSchema);

// `receiver` is the receiver's type (what dashboards always grouped by), `receiver_key` its key in the config
// (`syslog/edge`): bounded by the config, it tells two receivers of one type apart
const accepted = counter('meshward_collector_accepted_total', 'records accepted and published', [
  'receiver',
  'receiver_key',
]);
const rejectedTotal = counter('meshward_collector_rejected_total', 'records rejected (sent to the DLQ)', [
  'receiver',
  'receiver_key',
  'code',
]);
const dlqTotal = counter('meshward_collector_dlq_total', 'records written to the dead-letter topic', [
  'receiver',
  'receiver_key',
]);
const truncatedKeys = counter(
  'meshward_collector_truncated_keys_total',
  'params and tags keys longer than the schema allows, cut to the bound (the record is kept)',
  ['field'],
);
const truncatedValues = counter(
  'meshward_collector_truncated_values_total',
  'path, host, params and tags values longer than the schema allows, cut to the bound (the record is kept)',
  ['field'],
);
const droppedKeys = counter(
  'meshward_collector_dropped_keys_total',
  'params and tags entries dropped (reason: excess, past the most entries the schema allows; repeat, their cut key repeated an earlier key)',
  ['field', 'reason'],
);
/** one function for every record, so the fast path (nothing over a bound) allocates nothing */
function countCut(field: BoundedField, kind: CutKind, n: number): void {
  if (kind === 'key') truncatedKeys.inc({ field }, n);
  else if (kind === 'value') truncatedValues.inc({ field }, n);
  else droppedKeys.inc({ field, reason: kind }, n);
}
const scrubbed = counter('meshward_collector_secrets_scrubbed_total', 'secret-looking values replaced in records');

export interface RecordIngestOptions {
  bus: Bus;
  logger: Logger;
  /** records whose ts is further than this ahead of the collector's clock are rejected (default 10 min) */
  maxFutureSkewMs?: number;
  clock?: () => number;
  /** counts every accepted record per sensor (kind + id) with its receipt time, taken from `clock` */
  activity?: SensorActivity;
  /**
   * correlator.keyed_streams in force: each accepted record with a stream's key is written to its topic too, in the
   * bundle of its key's bucket (keyed-streams.ts), with the calls (a batch retried after a failure may repeat records
   * on a stream, as on the calls topic)
   */
  streams?: readonly KeyedStream[];
}

/** an entry of meshward.calls.dlq: what was rejected, by which receiver, why */
export interface DeadLetter {
  ts: number;
  /** the receiver's type: http (the collector's /v1/records), syslog, kong, idp, bus */
  receiver: string;
  /** the receiver's config key (`syslog/edge`; the bare type when unnamed; `http`), as IngestOrigin.key */
  receiverKey: string;
  sensorId: string;
  code: string;
  reason: string;
  /**
   * The original bytes as UTF-8 text (invalid sequences replaced) and base64 (exact), up to 256 KiB, except for
   * credential-looking spans, which are replaced by `[redacted]` (then `scrubbed` says how many).
   */
  raw: string;
  rawBase64: string;
  scrubbed?: number;
}

const MAX_RAW_IN_DLQ = 256 * 1024;

/** Validates, scrubs and publishes records: the one path every receiver hands records to. */
export function createRecordIngest(opts: RecordIngestOptions): RecordIngest {
  const clock = opts.clock ?? Date.now;
  const maxSkew = opts.maxFutureSkewMs ?? 10 * 60_000;
  const streams = opts.streams ?? [];

  /** `raw`: the item's bytes when it came as bytes; an item that came as a value is serialised only if rejected */
  function validate(item: unknown): { record?: ApiCallRecord; code?: string; reason?: string; raw?: Buffer } {
    if (item instanceof UnmappedItem) {
      return { code: item.code, reason: item.reason, raw: Buffer.from(safeStringify(item.item)) };
    }
    let value = item;
    let raw: Buffer | undefined;
    if (typeof item === 'string' || Buffer.isBuffer(item)) {
      raw = Buffer.isBuffer(item) ? item : Buffer.from(item);
      try {
        value = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return { code: 'MW_ERR_RECORD_PARSE', reason: parseProblem(err as Error), raw };
      }
    }
    // what a caller writes past a bound is cut, never a reason to refuse the record: the check then holds the bounds
    value = boundRecord(value, countCut);
    if (!check.Check(value)) {
      const first = check.Errors(value).First();
      const reason = first ? `${first.path || '/'}: ${first.message}` : 'does not match ApiCallRecord v1';
      return { code: 'MW_ERR_RECORD_INVALID', reason, raw };
    }
    const record = value as ApiCallRecord;
    if (!Number.isFinite(record.ts) || record.ts > clock() + maxSkew) {
      return { code: 'MW_ERR_RECORD_INVALID', reason: '/ts: timestamp is in the future', raw };
    }
    return { record, raw };
  }

  return {
    async ingest(items: unknown[], origin: IngestOrigin): Promise<IngestResult> {
      return inSpan('meshward.ingest', { receiver: origin.receiver, 'meshward.records': items.length }, async () => {
        const good: OutMessage[] = [];
        /** the accepted records (as `good` has them serialised), for the keyed streams */
        const streamed: ApiCallRecord[] = [];
        const ids: string[] = [];
        const dead: OutMessage[] = [];
        const rejected: IngestRejection[] = [];
        /** the accepted records per sensor: most batches come from one */
        const bySensor = new Map<string, { kind: string; id: string; n: number }>();
        const headers = traceHeaders();
        const labels = { receiver: origin.receiver, receiver_key: origin.key };
        for (let i = 0; i < items.length; i++) {
          const v = validate(items[i]);
          if (v.record) {
            const r = v.record;
            const n = scrubSecrets(r);
            const path = scrubPathQuery(r.path);
            const pathChanged = path !== r.path;
            if (pathChanged) r.path = path;
            if (n > 0 || pathChanged) scrubbed.inc(n + (pathChanged ? 1 : 0));
            r.v = 1;
            good.push({ key: r.service, value: JSON.stringify(r), headers });
            if (streams.length > 0) streamed.push(r);
            ids.push(r.id);
            if (opts.activity) {
              const key = sensorKey(r.sensor.kind, r.sensor.id);
              const s = bySensor.get(key);
              if (s) s.n++;
              else bySensor.set(key, { kind: r.sensor.kind, id: r.sensor.id, n: 1 });
            }
          } else {
            const code = v.code ?? 'MW_ERR_RECORD_INVALID';
            const reason = v.reason ?? 'invalid';
            rejected.push({ index: i, code, reason });
            rejectedTotal.inc({ ...labels, code });
            // a rejected item is never modified, so these are the bytes (or the value) as they arrived
            let raw = (v.raw ?? Buffer.from(safeStringify(items[i]))).subarray(0, MAX_RAW_IN_DLQ);
            // latin1 maps each byte to one char, so redacting spans keeps every other byte exactly as it came
            const clean = scrubRawText(raw.toString('latin1'));
            if (clean.replaced > 0) {
              raw = Buffer.from(clean.text, 'latin1');
              scrubbed.inc(clean.replaced);
            }
            const letter: DeadLetter = {
              ts: clock(),
              receiver: origin.receiver,
              receiverKey: origin.key,
              sensorId: origin.sensorId,
              code,
              reason,
              raw: raw.toString('utf8'),
              rawBase64: raw.toString('base64'),
              ...(clean.replaced > 0 ? { scrubbed: clean.replaced } : {}),
            };
            dead.push({ key: origin.sensorId, value: JSON.stringify(letter) });
          }
        }
        try {
          // dead letters first: when either publish fails the sender retries the whole batch, and a retry after a
          // failed DLQ publish then repeats no record (after a failed calls publish, only dead letters)
          if (dead.length > 0) {
            await opts.bus.publish(TOPICS.callsDlq, dead);
            dlqTotal.inc(labels, dead.length);
          }
          await inSpan('meshward.publish', { topic: TOPICS.calls, 'meshward.records': good.length }, async () => {
            if (good.length === 0) return;
            // the keyed streams with the calls, at once: the Kafka bus sends what is published together in one batch
            await Promise.all([
              ...streams.map((s) => {
                const messages = bundles(s, streamed, good).map((m) => ({ ...m, headers }));
                return messages.length > 0 ? opts.bus.publish(s.topic, messages) : undefined;
              }),
              opts.bus.publish(TOPICS.calls, good),
            ]);
          });
        } catch (err) {
          if (err instanceof MeshwardError) throw err;
          throw mwError('BUS_UNAVAILABLE', (err as Error).message, undefined, err);
        }
        accepted.inc(labels, good.length);
        if (opts.activity && bySensor.size > 0) {
          const at = clock();
          for (const s of bySensor.values()) opts.activity.accepted(s.kind, s.id, s.n, at);
          // posted over HTTP, the origin's id is the authenticated sensor token's
          if (origin.receiver === 'http') opts.activity.tokenUsed(origin.sensorId, at);
        }
        if (rejected.length > 0) {
          opts.logger.warn(
            {
              receiver: origin.receiver,
              receiverKey: origin.key,
              sensorId: origin.sensorId,
              rejected: rejected.length,
              first: rejected[0],
            },
            'records rejected to the DLQ',
          );
        }
        return { accepted: good.length, ids, rejected };
      });
    },
  };
}

/** the input V8 quotes around a JSON syntax error: `Unexpected token 'B', "Bearer eyJ"... is not valid JSON` */
const QUOTED_INPUT = /,? ?(?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s;

/**
 * The reason a body did not parse, without the piece of the input JSON.parse quotes in its message: that piece can be
 * the start of a token or a key, and the reason is logged and kept beside the dead letter's redacted bytes.
 */
export function parseProblem(err: Error): string {
  const problem = err.message.replace(QUOTED_INPUT, '');
  return problem ? `not valid JSON: ${problem}` : 'not valid JSON';
}

/**
 * The dead letter's text for an item that arrived as a value, not bytes. Never throws: a value JSON cannot write
 * (BigInt, a cycle, nesting deeper than the stack) gets a placeholder; String() is no fallback, as it throws for
 * null-prototype objects and recurses as deep as JSON.stringify does for nested arrays.
 */
function safeStringify(v: unknown): string {
  try {
    return JSON.stringify(v) ?? `[${typeof v}]`;
  } catch (err) {
    return `[not serialisable as JSON: ${(err as Error).message}]`;
  }
}
