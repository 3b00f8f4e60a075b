import { type Static, Type } from '@sinclair/typebox';
import { newId } from '../../pipeline/core/ids.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';

/** What happened at the identity provider, in meshward's generic vocabulary. */
export const IDP_EVENT_TYPES = [
  'login.success',
  'login.failure',
  'token.issued',
  'token.refreshed',
  'token.failure',
  'token.revoked',
  'token.revocation_failure',
  'logout',
] as const;
export const IdpEventType = Type.Union(IDP_EVENT_TYPES.map((t) => Type.Literal(t)));
export type IdpEventType = Static<typeof IdpEventType>;

/**
 * The generic webhook event. A raw `token` is accepted so IdPs without a hashing hook can send it; the receiver
 * replaces it with the keyed hash at once and never stores or logs it. Senders that can hash send `token_hash`.
 */
export const GenericIdpEventSchema = Type.Object(
  {
    event: IdpEventType,
    /** epoch ms, or an RFC 3339 date-time string; default (and for a string that is not one): time of receipt */
    ts: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.String({ maxLength: 64 })])),
    sub: Type.Optional(Type.String({ maxLength: 256 })),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    session_id: Type.Optional(Type.String({ maxLength: 256 })),
    token: Type.Optional(Type.String({ maxLength: 16_384 })),
    token_hash: Type.Optional(Type.String({ pattern: '^h1:[0-9a-f]{32}$' })),
    ip: Type.Optional(Type.String({ maxLength: 64 })),
    /** the IdP endpoint path, e.g. /token */
    path: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024 })),
    method: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    /** OAuth error code on failures, e.g. invalid_client, invalid_grant */
    error: Type.Optional(Type.String({ maxLength: 128 })),
    grant_type: Type.Optional(Type.String({ maxLength: 256 })),
    duration_ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);
export type GenericIdpEvent = Static<typeof GenericIdpEventSchema>;

const DEFAULT_PATH: Record<IdpEventType, string> = {
  'login.success': '/auth',
  'login.failure': '/auth',
  'token.issued': '/token',
  'token.refreshed': '/token',
  'token.failure': '/token',
  'token.revoked': '/token/revocation',
  'token.revocation_failure': '/token/revocation',
  logout: '/session/end',
};

const FAILURE_STATUS: Record<string, number> = { invalid_client: 401, unauthorized_client: 401, access_denied: 403 };

/** the status of a failure by its OAuth error, 400 for any other (`constructor` too, not Object.prototype's member) */
const failureStatus = (error: string | undefined): number =>
  error !== undefined && Object.hasOwn(FAILURE_STATUS, error) ? FAILURE_STATUS[error] : 400;

const outcomeOf = (e: IdpEventType): 'success' | 'failure' | 'none' =>
  e.endsWith('failure') ? 'failure' : e === 'logout' ? 'none' : 'success';

export interface RecordContext {
  service: string;
  host: string;
  sensorId: string;
  hash: (token: string) => string;
  now: number;
  /** called for an event whose `ts` string is not a time a record can hold, and which is timed by `now` instead */
  onTsReplaced?: () => void;
}

/** RFC 3339 date-time (`2026-01-05T10:00:00.000Z`, `2026-01-05 11:00:00+01:00`): the date, the time, the offset */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an RFC 3339 date-time at or after 1970 (a record's ts cannot be earlier), else undefined. Read by its
 * fields, not by Date.parse, which takes almost any text for a date (V8 reads '50' as 1950 and '2024-02-30' as March
 * 1st) and would date an event by what its sender never meant.
 */
export function rfc3339Time(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const offsetMin = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  // before 1970 a record cannot hold it (and Date.UTC would read years 0-99 as 1900-1999)
  if (year < 1970) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  // second 60 is a leap second (RFC 3339 allows it): it reads as the next minute's first
  if (hour > 23 || minute > 59 || second > 60 || Number(m[10] ?? 0) > 23 || Number(m[11] ?? 0) > 59) return undefined;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  return t >= 0 ? t : undefined;
}

function tsOf(ts: GenericIdpEvent['ts'], ctx: RecordContext): number {
  if (typeof ts === 'number') return ts;
  if (typeof ts === 'string') {
    const t = rfc3339Time(ts);
    if (t !== undefined) return t;
    ctx.onTsReplaced?.();
  }
  return ctx.now;
}

/** one ApiCallRecord for one IdP event; the raw token, if any, becomes its keyed hash */
export function idpEventToRecord(e: GenericIdpEvent, ctx: RecordContext): ApiCallRecord {
  const outcome = outcomeOf(e.event);
  const path = e.path ?? DEFAULT_PATH[e.event];
  const status = e.status ?? (outcome === 'failure' ? failureStatus(e.error) : 200);
  const tokenHash = e.token_hash ?? (e.token ? ctx.hash(e.token) : undefined);
  const user: NonNullable<ApiCallRecord['user']> = { authOutcome: outcome };
  if (e.sub) user.sub = e.sub;
  if (e.client_id) user.clientId = e.client_id;
  if (e.session_id) user.sessionId = e.session_id;
  if (tokenHash) user.tokenHash = tokenHash;
  const tags: Record<string, string> = { idp_event: e.event };
  if (e.error) tags.idp_error = e.error;
  if (e.grant_type) tags.grant_type = e.grant_type;
  return {
    v: 1,
    id: newId(),
    ts: tsOf(e.ts, ctx),
    durationMs: e.duration_ms ?? 0,
    sensor: { kind: 'idp', id: ctx.sensorId },
    service: ctx.service,
    method: (e.method ?? 'POST').toUpperCase(),
    host: ctx.host,
    path,
    route: path.split('?')[0],
    status,
    reqBytes: 0,
    respBytes: 0,
    source: e.ip ? { ip: e.ip } : {},
    user,
    tags,
  };
}
