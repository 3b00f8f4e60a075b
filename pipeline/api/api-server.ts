import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { mwError } from '../core/errors.js';
import { installErrorHandler } from '../core/http-errors.js';
import type { Logger } from '../core/logger.js';
import { counter, registry } from '../core/metrics.js';
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

  app.addHook('onRequest', async (request) => {
    const role = request.routeOptions.config?.role;
    if (!role) return;
    try {
      request.principal = await opts.auth.authenticate(request.headers);
      requireRole(request.principal, role);
    } catch (err) {
      authFailures.inc({ code: (err as { code?: string }).code ?? 'unknown' });
      throw err;
    }
  });

  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const parts = opts.health();
    const ok = Object.values(parts).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', parts });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  for (const plugin of opts.plugins) await plugin(app);
  return app;
}
