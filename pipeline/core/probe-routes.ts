import Fastify, { type FastifyInstance } from 'fastify';
import { catalogueServerOptions, installErrorHandler } from './http-errors.js';
import type { Logger } from './logger.js';
import { registry } from './metrics.js';

/** `GET /metrics`: the process's Prometheus metrics (public, hidden from the API docs) */
export function addMetricsRoute(app: FastifyInstance): void {
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
}

/** `GET /healthz` (200, or 503 with the parts that are down) and `GET /metrics` */
export function addProbeRoutes(app: FastifyInstance, health: () => Record<string, boolean>): void {
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const parts = health();
    const ok = Object.values(parts).every(Boolean);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', parts });
  });
  addMetricsRoute(app);
}

/**
 * A server of its own for `/healthz` and `/metrics`, for a role without an API (the correlator's `listen`): what it
 * refuses (a path it does not serve, a request Node cannot parse, a request that has not all arrived within
 * `requestTimeoutMs`, 30 s as the API's by default: a probe sends no body) gets its catalogue code and is counted in
 * meshward_http_errors_total{server}, as the collector's and the API's refusals are.
 */
export function createProbeServer(
  server: string,
  logger: Logger,
  health: () => Record<string, boolean>,
  requestTimeoutMs = 30_000,
) {
  const app = Fastify({
    logger: false,
    ...catalogueServerOptions(server, logger, requestTimeoutMs),
  });
  installErrorHandler(app, server, logger);
  addProbeRoutes(app, health);
  return app;
}
