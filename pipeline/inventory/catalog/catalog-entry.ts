import { type Static, Type } from '@sinclair/typebox';

export const CatalogEndpoint = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 16 }),
    path: Type.String({ minLength: 1, maxLength: 2048 }),
    params: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 1000 })),
    summary: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
    deprecated: Type.Optional(Type.Boolean()),
    security: Type.Optional(
      Type.Union([Type.Literal('required'), Type.Literal('optional'), Type.Literal('none')], {
        description:
          'whether a call needs a credential: required (OpenAPI security with every requirement non-empty), optional (one requirement is empty, {}), none (security: [])',
      }),
    ),
  },
  { additionalProperties: true },
);
export type CatalogEndpoint = Static<typeof CatalogEndpoint>;

export const CatalogLabels = Type.Object(
  {
    category: Type.Optional(Type.String({ maxLength: 256 })),
    lineOfBusiness: Type.Optional(Type.String({ maxLength: 256 })),
    appCode: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type CatalogLabels = Static<typeof CatalogLabels>;

/** one line of a JSONL catalogue (also what OpenAPI / Swagger documents are converted to) */
export const CatalogEntrySchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 512 }),
    name: Type.String({ maxLength: 1024 }),
    description: Type.Optional(Type.String({ maxLength: 65536 })),
    service: Type.Optional(Type.String({ maxLength: 256 })),
    host: Type.Optional(Type.String({ maxLength: 512 })),
    /** further servers (OpenAPI servers[]), host names or URLs */
    servers: Type.Optional(Type.Array(Type.String({ maxLength: 2048 }), { maxItems: 100 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 1000 })),
    endpoints: Type.Optional(Type.Array(CatalogEndpoint, { maxItems: 100_000 })),
    labels: CatalogLabels,
    deprecated: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: true },
);
export type CatalogEntry = Static<typeof CatalogEntrySchema>;

export const LABEL_DIMENSIONS = ['category', 'lineOfBusiness', 'appCode'] as const;
