import type { FastifyInstance } from 'fastify';
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
