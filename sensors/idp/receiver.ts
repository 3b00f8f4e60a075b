import { timingSafeEqual } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync } from 'fastify';
import { parseJsonBodies } from '../../pipeline/collector/json-body.js';
import { type RecordIngest, UnmappedItem } from '../../pipeline/collector/ingest.js';
import { MeshwardError, mwError } from '../../pipeline/core/errors.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import { tokenHasher } from '../common/token-hash.js';
import type { IdpSensorConfig } from './config.js';
import { GenericIdpEventSchema, idpEventToRecord } from './events.js';
import { OidcProviderEventSchema, fromOidcProvider } from './oidc-provider-events.js';

const checkGeneric = TypeCompiler.Compile(GenericIdpEventSchema);
const checkOidc = TypeCompiler.Compile(OidcProviderEventSchema);

const received = counter('meshward_idp_events_total', 'IdP webhook events received', ['idp', 'format']);
const ignored = counter('meshward_idp_events_ignored_total', 'IdP events of a kind meshward does not record', ['idp']);
const rejected = counter('meshward_idp_webhook_rejected_total', 'IdP webhook requests rejected', ['idp', 'code']);
const tsReplaced = counter(
  'meshward_idp_events_ts_replaced_total',
  'IdP events whose ts string was not an RFC 3339 date-time from 1970 on, timed by their receipt instead',
  ['idp'],
);
const invalidEvents = counter(
  'meshward_idp_events_invalid_total',
  'IdP events (or bodies that are not JSON) rejected to the dead-letter topic',
  ['idp', 'code'],
);

export interface IdpWebhookOptions {
  config: IdpSensorConfig;
  ingest: RecordIngest;
  logger: Logger;
  /** resolved secrets (the factory reads the files) */
  webhookToken?: string;
  tokenHashKey: string;
  clock?: () => number;
  /** the key the receiver is declared under in the `receivers:` section (`idp`, `idp/okta`; default `idp`) */
  key?: string;
}

/**
 * One request body (an event, an array of events, or {events: [...]}) as items for the ingest: a record per event,
 * an UnmappedItem per invalid event, the bytes of a body that is not JSON; `positions` gives each item's event index
 * (events meshward does not record are left out and counted in `ignored`); `tsReplaced` counts the events timed by
 * `now` because their ts string was no time (see `rfc3339Time`). Throws BAD_REQUEST / BATCH_TOO_LARGE for
 * the request as a whole.
 */
export function itemsFromBody(
  body: unknown,
  opts: { config: IdpSensorConfig; hash: (t: string) => string; now: number },
): { items: unknown[]; positions: number[]; ignored: number; formats: string[]; tsReplaced: number } {
  if (Buffer.isBuffer(body)) return { items: [body], positions: [0], ignored: 0, formats: [], tsReplaced: 0 };
  const events = Array.isArray(body)
    ? body
    : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
      ? (body as { events: unknown[] }).events
      : [body];
  if (events.length === 0) throw mwError('BAD_REQUEST', 'no events in the request');
  if (events.length > opts.config.max_events) {
    throw mwError('BATCH_TOO_LARGE', `${events.length} events, at most ${opts.config.max_events} per request`);
  }
  let replaced = 0;
  const ctx = {
    service: opts.config.idp_name,
    host: opts.config.host ?? opts.config.idp_name,
    sensorId: opts.config.sensor_id,
    hash: opts.hash,
    now: opts.now,
    onTsReplaced: () => void replaced++,
  };
  const items: unknown[] = [];
  const positions: number[] = [];
  const formats: string[] = [];
  let skipped = 0;
  for (const [i, event] of events.entries()) {
    if (event && typeof event === 'object' && (event as { source?: unknown }).source === 'oidc-provider') {
      if (!checkOidc.Check(event)) {
        items.push(invalid(event, checkOidc.Errors(event).First()));
        positions.push(i);
        continue;
      }
      formats.push('oidc_provider');
      const generic = fromOidcProvider(event);
      if (!generic) {
        skipped++;
        continue;
      }
      items.push(idpEventToRecord(generic, ctx));
    } else if (checkGeneric.Check(event)) {
      formats.push('generic');
      items.push(idpEventToRecord(event, ctx));
    } else items.push(invalid(event, checkGeneric.Errors(event).First()));
    positions.push(i);
  }
  return { items, positions, ignored: skipped, formats, tsReplaced: replaced };
}

/** the reason names the field, never echoes the value (it could be a token); the dead letter redacts the event */
function invalid(event: unknown, first: { path: string; message: string } | undefined): UnmappedItem {
  const reason = first ? `${first.path || '/'}: ${first.message}` : 'not an IdP event';
  return new UnmappedItem(event, 'MW_ERR_RECORD_INVALID', reason);
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The IdP callback sensor: a webhook for identity-provider events (logins, token grants, refreshes, revocations,
 * logouts) in the generic shape or as flattened oidc-provider events, handed to the collector as ApiCallRecords.
 */
export const idpWebhook: FastifyPluginAsync<IdpWebhookOptions> = async (app, opts) => {
  const { config, ingest, logger } = opts;
  const hash = tokenHasher(opts.tokenHashKey);
  const clock = opts.clock ?? Date.now;
  const idp = config.idp_name;

  // a request refused as a whole is counted here by IdP, then thrown on to the server's error handler (the
  // collector's, installErrorHandler), which answers it with its catalogue code and counts it, once, in
  // meshward_http_errors_total as it does every other refusal of the server
  app.setErrorHandler((err) => {
    const e =
      err instanceof MeshwardError
        ? err
        : (err as { statusCode?: number }).statusCode === 413
          ? mwError('BODY_TOO_LARGE')
          : (err as { statusCode?: number }).statusCode === 400 || (err as { statusCode?: number }).statusCode === 415
            ? mwError('BAD_REQUEST', (err as Error).message)
            : mwError('INTERNAL');
    rejected.inc({ idp, code: e.code });
    if (e.status >= 500) logger.error({ err }, 'idp webhook failed');
    else logger.debug({ code: e.code, msg: e.message }, 'idp webhook request rejected');
    throw e;
  });

  parseJsonBodies(app, config.body_limit);
  app.post(config.path, { bodyLimit: config.body_limit }, async (req, reply) => {
    if (opts.webhookToken) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7), opts.webhookToken)) {
        throw mwError('UNAUTHENTICATED', 'the IdP webhook needs its bearer token');
      }
    }
    const parsed = itemsFromBody(req.body, { config, hash, now: clock() });
    const { items, positions, ignored: skipped, formats } = parsed;
    for (const f of formats) received.inc({ idp, format: f });
    if (parsed.tsReplaced) tsReplaced.inc({ idp }, parsed.tsReplaced);
    if (skipped) ignored.inc({ idp }, skipped);
    const result = items.length
      ? await ingest.ingest(items, { receiver: 'idp', key: opts.key ?? 'idp', sensorId: config.sensor_id })
      : { accepted: 0, ids: [], rejected: [] };
    for (const r of result.rejected) invalidEvents.inc({ idp, code: r.code });
    // rejections by the event's index in the request, as the collector answers by the record's
    const refused = result.rejected.map((r) => ({ ...r, index: positions[r.index] ?? r.index }));
    return reply.status(202).send({ accepted: result.accepted, ignored: skipped, rejected: refused });
  });
};
