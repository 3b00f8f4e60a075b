import { type Static, Type } from '@sinclair/typebox';
import { SUBJECT_PAIR_LIMITS } from '../shared/subject-limits.js';

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
    /** ids kept exactly per (subject, endpoint) before switching to a HyperLogLog sketch */
    exact_limit: Type.Integer({ minimum: 1, default: 64, description: 'exact ids before the sketch takes over' }),
    ...SUBJECT_PAIR_LIMITS,
  },
  { additionalProperties: false },
);
export type EnumerationConfig = Static<typeof EnumerationConfigSchema>;
