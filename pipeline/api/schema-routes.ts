import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AlertSchema } from '../core/alert.js';
import { DecisionSchema } from '../core/decision.js';
import { mwError } from '../core/errors.js';
import { ApiCallRecordSchema } from '../core/record.js';
import { ApiEntrySchema } from '../inventory/api-entry.js';

/** the JSON Schemas of meshward's documents, for sensor authors and integrators */
export const PUBLISHED_SCHEMAS = {
  'api-call-record-v1': ApiCallRecordSchema,
  'alert-v1': AlertSchema,
  'decision-v1': DecisionSchema,
  'api-entry-v1': ApiEntrySchema,
} as const;

/** `GET /v1/schemas` and `GET /v1/schemas/:name`: public, like the OpenAPI document at /docs */
export function schemaRoutes() {
  return async (app: FastifyInstance) => {
    app.get(
      '/v1/schemas',
      { schema: { tags: ['schemas'], summary: 'Names of the published JSON Schemas' } },
      async () => ({
        items: Object.entries(PUBLISHED_SCHEMAS).map(([name, s]) => ({ name, id: s.$id, title: s.title })),
      }),
    );
    app.get(
      '/v1/schemas/:name',
      {
        schema: {
          tags: ['schemas'],
          summary: 'One JSON Schema (draft 2020-12 compatible)',
          params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
        },
      },
      async (request, reply) => {
        const { name } = request.params as { name: string };
        const schema = Object.hasOwn(PUBLISHED_SCHEMAS, name)
          ? PUBLISHED_SCHEMAS[name as keyof typeof PUBLISHED_SCHEMAS]
          : undefined;
        if (!schema) throw mwError('NOT_FOUND', `schema ${name} (known: ${Object.keys(PUBLISHED_SCHEMAS).join(', ')})`);
        return reply.type('application/schema+json').send(JSON.stringify(schema));
      },
    );
  };
}
