import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  endpointsKey,
  SERVICES_KEY,
  type SeriesSummary,
  type StoredWindow,
  seriesKey,
} from '../correlator/metrics-writer.js';
import { mwError } from '../core/errors.js';
import type { Store } from '../store/store.js';

const MetricsQuery = Type.Object(
  {
    endpoint: Type.Optional(Type.String({ description: 'METHOD /route; absent = the service as a whole' })),
    from: Type.Optional(Type.Number()),
    to: Type.Optional(Type.Number()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_080, default: 1440 })),
  },
  { additionalProperties: false },
);

/** services seen in traffic, their endpoints, and RED time series (rate, errors, latency quantiles) */
export function serviceRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/services',
      { config: { role: 'viewer' }, schema: { tags: ['services'], summary: 'Services with their latest window' } },
      async () => {
        const rows = Object.values(await store.hgetall(SERVICES_KEY)).map((v) => JSON.parse(v) as SeriesSummary);
        rows.sort((a, b) => a.service.localeCompare(b.service));
        return { items: rows };
      },
    );

    app.get(
      '/v1/services/:name/endpoints',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['services'],
          summary: 'Endpoints of a service with their latest window',
          params: Type.Object({ name: Type.String() }),
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const rows = Object.values(await store.hgetall(endpointsKey(name))).map((v) => JSON.parse(v) as SeriesSummary);
        rows.sort((a, b) => b.count - a.count);
        return { items: rows };
      },
    );

    app.get(
      '/v1/services/:name/metrics',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['services'],
          summary: 'RED time series of a service or one of its endpoints',
          params: Type.Object({ name: Type.String() }),
          querystring: MetricsQuery,
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const q = request.query as { endpoint?: string; from?: number; to?: number; limit?: number };
        if (!(await store.hget(SERVICES_KEY, name))) throw mwError('NOT_FOUND', `service ${name}`);
        const members = await store.zrange(seriesKey(name, q.endpoint), q.from ?? 0, q.to ?? Number.POSITIVE_INFINITY, {
          rev: true,
          limit: q.limit ?? 1440,
        });
        const points = members.map((m) => JSON.parse(m) as StoredWindow).reverse();
        return { service: name, endpoint: q.endpoint ?? null, points };
      },
    );
  };
}
