import { counter } from '../../pipeline/core/metrics.js';
import { type Logger, silentLogger } from '../../pipeline/core/logger.js';
import { tokenHasher } from '../common/token-hash.js';
import type { OidcProviderEvent } from './oidc-provider-events.js';

/** The slice of an oidc-provider instance the bridge uses (EventEmitter + Koa `use`). */
export interface ProviderLike {
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listeners take any arguments
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter listeners take any arguments
  off?(event: string, listener: (...args: any[]) => void): unknown;
  use?(middleware: (ctx: never, next: () => Promise<void>) => Promise<void>): unknown;
}

export interface BridgeOptions {
  /** the IdP webhook, e.g. http://collector:7071/v1/idp/events */
  url: string;
  /** bearer token of the webhook */
  token?: string;
  /** the keyed token hash key shared with the pipeline: raw tokens never leave the IdP process */
  tokenHashKey: string;
  /** provider events to forward (default: the ones that carry a request context, see DEFAULT_EVENTS) */
  events?: string[];
  /** pending events kept at most; beyond that new events are dropped and counted */
  maxQueue?: number;
  /** events per POST */
  batchSize?: number;
  /** how long an event may wait for a batch, ms */
  flushMs?: number;
  /** POST attempts per batch before it is dropped and counted */
  maxAttempts?: number;
  logger?: Logger;
}

export const DEFAULT_EVENTS = [
  'grant.success',
  'grant.error',
  'authorization.error',
  'interaction.ended',
  'end_session.success',
];

const dropped = counter('meshward_idp_bridge_dropped_total', 'oidc-provider events the bridge dropped', ['reason']);
const sent = counter('meshward_idp_bridge_sent_total', 'oidc-provider events the bridge delivered');

// the parts of a Koa context with oidc-provider's `ctx.oidc` that the bridge reads
interface Ctx {
  ip?: string;
  path?: string;
  method?: string;
  status?: number;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  state?: Record<string, unknown>;
  oidc?: {
    route?: string;
    client?: { clientId?: string };
    params?: Record<string, unknown>;
    entities?: Record<string, { accountId?: string; sid?: string; clientId?: string } | undefined>;
    session?: { accountId?: string };
  };
}

const START = Symbol('meshward.start');

/** the client id of a request: authenticated client, form param, or the user part of Basic auth (never the secret) */
function clientIdOf(ctx: Ctx): string | undefined {
  const fromClient = ctx.oidc?.client?.clientId;
  if (fromClient) return fromClient;
  const param = ctx.oidc?.params?.client_id;
  if (typeof param === 'string' && param) return param;
  const auth = ctx.headers?.authorization;
  if (typeof auth === 'string' && auth.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon)).slice(0, 256);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Subscribe to a running oidc-provider's events and post them, flattened, to the IdP webhook in batches. Tokens are
 * hashed here, in the IdP process. Delivery is best effort: bounded queue, bounded retries, drops counted.
 */
export function bridgeOidcProvider(provider: ProviderLike, opts: BridgeOptions) {
  const logger = opts.logger ?? silentLogger;
  const hash = tokenHasher(opts.tokenHashKey);
  const maxQueue = opts.maxQueue ?? 10_000;
  const batchSize = opts.batchSize ?? 100;
  const flushMs = opts.flushMs ?? 200;
  const maxAttempts = opts.maxAttempts ?? 3;
  const queue: OidcProviderEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> = Promise.resolve();
  let closed = false;

  function flatten(
    name: string,
    ctx: Ctx | undefined,
    err?: { error?: string; statusCode?: number },
  ): OidcProviderEvent {
    const e: OidcProviderEvent = { source: 'oidc-provider', name, ts: Date.now() };
    if (!ctx) return e;
    const entities = ctx.oidc?.entities ?? {};
    const tokenModel = entities.AccessToken ?? entities.ClientCredentials ?? entities.RefreshToken;
    const account = tokenModel?.accountId ?? ctx.oidc?.session?.accountId ?? entities.Account?.accountId;
    const clientId = clientIdOf(ctx);
    const grantType = ctx.oidc?.params?.grant_type;
    if (account) e.account_id = account;
    if (clientId) e.client_id = clientId;
    if (tokenModel?.sid) e.sid = tokenModel.sid;
    if (typeof grantType === 'string') e.grant_type = grantType;
    if (err?.error) e.error = err.error;
    const status = err?.statusCode ?? ctx.status;
    if (status && status >= 100 && status <= 599) e.status = status;
    if (ctx.ip) e.ip = ctx.ip;
    if (ctx.path) e.path = ctx.path;
    if (ctx.method) e.method = ctx.method;
    const raw =
      name === 'grant.success'
        ? (ctx.body as { access_token?: unknown } | undefined)?.access_token
        : name.startsWith('revocation.')
          ? ctx.oidc?.params?.token
          : undefined;
    if (typeof raw === 'string' && raw) e.token_hash = hash(raw);
    const started = ctx.state?.[START as unknown as string] as number | undefined;
    if (started) e.duration_ms = Math.max(0, Date.now() - started);
    return e;
  }

  function enqueue(e: OidcProviderEvent) {
    if (closed) return;
    if (queue.length >= maxQueue) {
      dropped.inc({ reason: 'queue_full' });
      return;
    }
    queue.push(e);
    if (queue.length >= batchSize) void flush();
    else if (!timer) {
      timer = setTimeout(() => void flush(), flushMs);
      timer.unref();
    }
  }

  async function post(batch: OidcProviderEvent[]) {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          },
          body: JSON.stringify({ events: batch }),
          signal: AbortSignal.timeout(5000),
        });
        await res.arrayBuffer();
        if (res.status === 202 || res.status === 200) {
          sent.inc(batch.length);
          return;
        }
        if (res.status < 500 && res.status !== 429) {
          dropped.inc({ reason: `http_${res.status}` }, batch.length);
          logger.warn({ status: res.status }, 'idp webhook refused a batch of oidc-provider events');
          return;
        }
        throw new Error(`HTTP ${res.status}`);
      } catch (err) {
        if (attempt >= maxAttempts) {
          dropped.inc({ reason: 'unreachable' }, batch.length);
          logger.warn({ err }, 'idp webhook unreachable; batch of oidc-provider events dropped');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
      }
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    sending = sending.then(async () => {
      while (queue.length) await post(queue.splice(0, batchSize));
    });
    return sending;
  }

  const listeners: [string, (ctx: Ctx, err?: { error?: string; statusCode?: number }) => void][] = [];
  for (const name of opts.events ?? DEFAULT_EVENTS) {
    const listener = (ctxOrModel: Ctx, err?: { error?: string; statusCode?: number }) => {
      try {
        enqueue(flatten(name, ctxOrModel && 'oidc' in ctxOrModel ? ctxOrModel : undefined, err));
      } catch (e) {
        logger.warn({ err: e, event: name }, 'could not flatten an oidc-provider event');
      }
    };
    provider.on(name, listener);
    listeners.push([name, listener]);
  }
  // timing for every request, and revocation outcomes (the provider emits no success event for revocation)
  provider.use?.((async (ctx: Ctx, next: () => Promise<void>) => {
    if (ctx.state) ctx.state[START as unknown as string] = Date.now();
    await next();
    if (closed || ctx.oidc?.route !== 'revocation') return;
    const ok = ctx.status === 200;
    const body = ctx.body as { error?: string } | undefined;
    enqueue(flatten(ok ? 'revocation.success' : 'revocation.error', ctx, ok ? undefined : { error: body?.error }));
  }) as never);

  return {
    flush,
    /** events waiting to be sent */
    pending: () => queue.length,
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      for (const [name, l] of listeners) provider.off?.(name, l);
    },
  };
}
