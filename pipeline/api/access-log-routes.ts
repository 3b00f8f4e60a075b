import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.js';
import { ACCESS_LOG, type AccessEvent } from './access-guard.js';

const Query = Type.Object(
  {
    after: Type.Optional(Type.String({ maxLength: 64, description: 'id of the last entry already read' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);

/** `GET /v1/access-log` (admin): refused and throttled requests, and every change made through the API */
export function accessLogRoutes(store: Store) {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/access-log',
      {
        config: { role: 'admin' },
        schema: { tags: ['audit'], summary: 'Access events, oldest first, after a cursor', querystring: Query },
      },
      async (request) => {
        const q = request.query as { after?: string; limit?: number };
        const rows = await store.readLog(ACCESS_LOG, q.after, q.limit ?? 200);
        const items = rows.map((r) => ({ id: r.id, ...(JSON.parse(r.entry) as AccessEvent) }));
        return { items, next: items.length > 0 ? items[items.length - 1].id : q.after };
      },
    );
  };
}
