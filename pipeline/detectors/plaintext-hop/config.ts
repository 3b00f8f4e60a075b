import { type Static, Type } from '@sinclair/typebox';

export const PlaintextHopConfigSchema = Type.Object(
  {
    /** raise a pair again only after this much event time has passed since its last alert */
    realert_ms: Type.Integer({
      minimum: 0,
      default: 3_600_000,
      description: 'ms between alerts for one (source, destination) pair',
    }),
    /** most (source, destination) pairs remembered; the least recently seen is forgotten first */
    max_pairs: Type.Integer({ minimum: 1, default: 100_000, description: 'cap on remembered pairs' }),
    /** callers allowed to speak plaintext (service names or SPIFFE ids), e.g. a node-local health checker */
    allowed_callers: Type.Array(Type.String(), { default: [], description: 'callers exempt from the mTLS rule' }),
  },
  { additionalProperties: false },
);
export type PlaintextHopConfig = Static<typeof PlaintextHopConfigSchema>;
