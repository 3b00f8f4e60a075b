import { type Static, Type } from '@sinclair/typebox';

export const DataLocalityConfigSchema = Type.Object(
  {
    /** which endpoints move which data classes, e.g. `{ service: users, endpoint: 'GET /users/{id}', data_classes: [personal] }` */
    endpoints: Type.Array(
      Type.Object(
        {
          service: Type.String({ minLength: 1, description: 'destination service' }),
          /** `METHOD /route/template`, or `*` for every endpoint of the service */
          endpoint: Type.String({ minLength: 1, default: '*', description: 'endpoint id or *' }),
          data_classes: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'data classes the endpoint carries',
          }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'endpoints and the data classes they carry' },
    ),
    /** residency rules: data of `data_class` held in `from_regions` may only move to `allowed_to` (globs with *) */
    rules: Type.Array(
      Type.Object(
        {
          data_class: Type.String({ minLength: 1 }),
          from_regions: Type.Array(Type.String({ minLength: 1 }), {
            minItems: 1,
            description: 'region globs the rule protects',
          }),
          allowed_to: Type.Array(Type.String({ minLength: 1 }), { description: 'region globs the data may move to' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'data residency rules' },
    ),
    /** record tag carrying the caller's region (set by mesh sensors) */
    source_region_tag: Type.String({ default: 'source_region', description: 'tag name of the caller region' }),
    /** caller region by service name, used when a record has no source region tag */
    service_regions: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'service → region fallback',
    }),
  },
  { additionalProperties: false },
);
export type DataLocalityConfig = Static<typeof DataLocalityConfigSchema>;
