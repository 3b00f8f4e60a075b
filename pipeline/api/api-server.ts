import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { MeshwardError, mwError } from '../core/errors.js';
import { catalogueServerOptions, installErrorHandler } from '../core/http-errors.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import { addProbeRoutes } from '../core/probe-routes.js';
import { type AccessEvent, AuthThrottle } from './access-guard.js';
import { type ApiAuthenticator, type Principal, type Role, requireRole } from './auth.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the least role a route needs; absent = public (health, metrics, console assets) */
    role?: Role;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface ApiServerOptions {
  auth: ApiAuthenticator;
  logger: Logger;
  /** health of the parts behind the API */
  health: () => Record<string, boolean>;
  /** route plugins registered after auth is in place (alerts, services, decisions, inventory, console, …) */
  plugins: ((app: FastifyInstance) => Promise<void> | void)[];
  /** refused requests and changes (non-GET) are written here */
  audit?: (e: AccessEvent) => Promise<void>;
  /** failed authentications per address and minute before 429 (default 20) */
  maxAuthFailuresPerMinute?: number;
  /** every caller that passed auth and its role check (the analyst directory) */
  onAuthenticated?: (principal: Principal) => void;
  /**
   * the proxies in front (`api.trust_proxy`: addresses/CIDRs, comma-separated): the client address of a request they
   * forward is X-Forwarded-For's, else every analyst behind one ingress is one address, and one client's failed logins
   * lock them all out
   */
  trustProxy?: string;
  /**
   * how long a whole request, body included, may take to arrive before it is refused (408; default 30 s,
   * `api.request_timeout_seconds`)
   */
  requestTimeoutMs?: number;
}

const authFailures = counter('meshward_api_auth_failures_total', 'analyst API requests refused', ['code']);

/** the caller, set by the auth hook on every route that declares a role */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw mwError('UNAUTHENTICATED');
  return request.principal;
}

/**
 * The analyst API. Every route states its role in `config.role`; one hook authenticates and checks it, so a route
 * cannot forget. `GET /docs` serves the OpenAPI document generated from the route schemas.
 */
export async function createApiServer(opts: ApiServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger.child({ server: 'api' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    ...catalogueServerOptions('api', opts.logger, opts.requestTimeoutMs ?? 30_000),
    ...(opts.trustProxy !== undefined ? { trustProxy: opts.trustProxy } : {}),
    // a field a route does not know is refused, not dropped: a misspelt filter (`?min_sev=high`) would list every
    // alert, a misspelt `coment` would lose the note
    ajv: { customOptions: { removeAdditional: false } },
  });
  installErrorHandler(app, 'api', opts.logger);
  await app.register(swagger, {
    openapi: {
      info: { title: 'meshward analyst API', version: '1' },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ apiKey: [] }, { bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const throttle = new AuthThrottle(opts.maxAuthFailuresPerMinute ?? 20);
  /** requests already on record as refused */
  const refused = new WeakSet<FastifyRequest>();
  const audit = opts.audit;
  const event = (
    request: FastifyRequest,
    outcome: AccessEvent['outcome'],
    status: number,
    code?: string,
  ): AccessEvent => ({
    ts: Date.now(),
    ip: request.ip,
    method: request.method,
    route: request.routeOptions.url ?? 'unknown',
    principal: request.principal?.id,
    role: request.principal?.role,
    outcome,
    status,
    ...(code ? { code } : {}),
  });

  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.role;
    if (!role) return;
    if (throttle.blocked(request.ip)) {
      void audit?.(event(request, 'throttled', 429, 'MW_ERR_RATE_LIMITED'));
      const wait = throttle.retryAfterSeconds(request.ip);
      throw new MeshwardError(
        'RATE_LIMITED',
        `too many failed authentications from this address; retry in ${wait} s`,
        undefined,
        { retryAfterSeconds: wait },
      );
    }
    try {
      request.principal = await opts.auth.authenticate(request.headers);
      requireRole(request.principal, role);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'unknown';
      authFailures.inc({ code });
      if (code === 'MW_ERR_UNAUTHENTICATED') throttle.fail(request.ip);
      refused.add(request);
      void audit?.(event(request, 'refused', (err as { status?: number }).status ?? 401, code));
      throw err;
    }
    opts.onAuthenticated?.(request.principal);
  });
  // every change made through the API is on record: who, what, and how it ended
  app.addHook('onResponse', async (request, reply) => {
    if (!audit || !request.principal || refused.has(request) || request.method === 'GET' || request.method === 'HEAD')
      return;
    await audit(event(request, reply.statusCode < 400 ? 'ok' : 'failed', reply.statusCode));
  });

  addProbeRoutes(app, opts.health);

  for (const plugin of opts.plugins) await plugin(app);
  return app;
}
