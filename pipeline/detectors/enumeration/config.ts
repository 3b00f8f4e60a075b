import { type Static, Type } from '@sinclair/typebox';

export const EnumerationConfigSchema = Type.Object(
  {
    /** counting window (event time) per (subject, endpoint) */
    window_ms: Type.Integer({ minimum: 1000, default: 600_000, description: 'counting window, ms' }),
    /** never alert below this many distinct object ids in a window */
    min_distinct: Type.Integer({ minimum: 2, default: 40, description: 'absolute floor of the threshold' }),
    /** alert above this multiple of the endpoint's usual per-subject distinct count */
    relative_factor: Type.Number({ minimum: 1, default: 5, description: 'multiple of the endpoint mean' }),
    /** ... and above the endpoint mean plus this many standard deviations */
    sigma_k: Type.Number({ minimum: 0, default: 6, description: 'standard deviations above the endpoint mean' }),
    /** query/body parameters that carry object ids (path placeholders always do) */
    id_params: Type.Array(Type.String(), { default: ['id'], description: 'parameter names holding object ids' }),
    /** also count workloads (service principals) as subjects; off: only users, tokens and client addresses */
    workload_subjects: Type.Boolean({ default: false, description: 'treat workloads as subjects' }),
    /** ids kept exactly per (subject, endpoint) before switching to a HyperLogLog sketch */
    exact_limit: Type.Integer({ minimum: 1, default: 64, description: 'exact ids before the sketch takes over' }),
    max_subjects: Type.Integer({
      minimum: 1,
      default: 100_000,
      description: 'cap on tracked (subject, endpoint) pairs',
    }),
    max_endpoints: Type.Integer({ minimum: 1, default: 10_000, description: 'cap on endpoints with a baseline' }),
  },
  { additionalProperties: false },
);
export type EnumerationConfig = Static<typeof EnumerationConfigSchema>;
