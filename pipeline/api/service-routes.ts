import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  endpointsKey,
  SERVICES_KEY,
  type SeriesSummary,
  type StoredWindow,
  seriesKey,
  withoutIdleFigures,
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

/** a figure a window without calls does not have: null, not 0 */
const UnlessIdle = (description: string) =>
  Type.Union([Type.Number(), Type.Null()], { description: `${description}; null when the window had no call` });

const WindowFields = {
  start: Type.Number({ description: 'window start, epoch ms (event time)' }),
  count: Type.Integer({ description: 'calls in the window' }),
  errors: Type.Integer({ description: 'calls answered 5xx or not answered' }),
  rate: Type.Number({ description: 'calls per second' }),
  errorRatio: UnlessIdle('errors / count'),
  p50: UnlessIdle('median latency, ms'),
  p95: UnlessIdle('95th percentile latency, ms'),
  p99: UnlessIdle('99th percentile latency, ms'),
};
const WindowSchema = Type.Object(WindowFields);
const SummarySchema = Type.Object({
  service: Type.String(),
  endpoint: Type.Optional(Type.String({ description: 'METHOD /route' })),
  ...WindowFields,
  lastWindow: Type.Number({ description: 'start of the latest window written, epoch ms (the figures are its)' }),
});
const Summaries = Type.Object({ items: Type.Array(SummarySchema) });

const summaries = (hash: Record<string, string>) =>
  Object.values(hash).map((v) => withoutIdleFigures(JSON.parse(v) as SeriesSummary));

/** services seen in traffic, their endpoints, and RED time series (rate, errors, latency quantiles) */
export function serviceRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/services',
      {
        config: { role: 'viewer' },
        schema: {
          tags: ['services'],
          summary: 'Services with their latest window',
          response: { 200: Summaries },
        },
      },
      async () => {
        const rows = summaries(await store.hgetall(SERVICES_KEY));
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
          response: { 200: Summaries },
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const rows = summaries(await store.hgetall(endpointsKey(name)));
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
          response: {
            200: Type.Object({
              service: Type.String(),
              endpoint: Type.Union([Type.String(), Type.Null()]),
              points: Type.Array(WindowSchema),
            }),
          },
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
        const points = members.map((m) => withoutIdleFigures(JSON.parse(m) as StoredWindow)).reverse();
        return { service: name, endpoint: q.endpoint ?? null, points };
      },
    );
  };
}
