import { type Static, Type } from '@sinclair/typebox';

export const NewCallerConfigSchema = Type.Object(
  {
    /** event time after a destination service is first seen during which every caller → endpoint pair is learned */
    learning_ms: Type.Integer({
      minimum: 0,
      default: 3_600_000,
      description: 'learning period per destination service, ms',
    }),
    /** most remembered (caller, service, endpoint) pairs; the least recently used is forgotten (and may alert again) */
    max_pairs: Type.Integer({ minimum: 1, default: 200_000, description: 'cap on remembered caller/endpoint pairs' }),
    /** most destination services tracked */
    max_services: Type.Integer({ minimum: 1, default: 10_000, description: 'cap on tracked destination services' }),
    /** also learn and alert on edge clients' addresses (off: only workloads, i.e. source.service or principal) */
    include_edge: Type.Boolean({ default: false, description: 'treat client IPs at the edge as callers too' }),
  },
  { additionalProperties: false },
);
export type NewCallerConfig = Static<typeof NewCallerConfigSchema>;
