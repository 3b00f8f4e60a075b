import { type Static, Type } from '@sinclair/typebox';
import { SUBJECT_PAIR_LIMITS } from '../shared/subject-limits.js';

export const DataVolumeConfigSchema = Type.Object(
  {
    /** counting window (event time) per (subject, endpoint), from the pair's first request */
    window_ms: Type.Integer({ minimum: 10_000, default: 300_000, description: 'counting window, ms' }),
    /** the quantile of the endpoint's per-subject window totals the threshold is a multiple of */
    quantile: Type.Number({
      exclusiveMinimum: 0.5,
      maximum: 0.999,
      default: 0.99,
      description: "quantile of the endpoint's per-subject window totals",
    }),
    /** bulk_data_access above this multiple of the quantile of response bytes per subject per window */
    bytes_factor: Type.Number({ minimum: 1, default: 5, description: 'multiple of the bytes quantile' }),
    /** ... and never below this many response bytes in a window */
    min_bytes: Type.Integer({ minimum: 1, default: 1_000_000, description: 'absolute floor of the bytes threshold' }),
    /** excessive_calls above this multiple of the quantile of requests per subject per window */
    requests_factor: Type.Number({ minimum: 1, default: 5, description: 'multiple of the requests quantile' }),
    /** ... and never below this many requests in a window */
    min_requests: Type.Integer({ minimum: 2, default: 30, description: 'absolute floor of the requests threshold' }),
    /** an endpoint's baseline is trusted (its thresholds apply) once this many distinct subjects ... */
    min_subjects: Type.Integer({
      minimum: 2,
      default: 10,
      description: 'distinct subjects before the endpoint alerts',
    }),
    /** ... and this many closed windows fed it */
    min_windows: Type.Integer({ minimum: 1, default: 50, description: 'closed windows before the endpoint alerts' }),
    /**
     * the baseline keeps two generations of sketches of this many windows each: it follows the endpoint's last
     * baseline_windows to 2 × baseline_windows windows (its quantile is read from a generation of at least half that)
     */
    baseline_windows: Type.Integer({ minimum: 10, default: 2000, description: 'windows per baseline generation' }),
    ...SUBJECT_PAIR_LIMITS,
  },
  { additionalProperties: false },
);
export type DataVolumeConfig = Static<typeof DataVolumeConfigSchema>;
