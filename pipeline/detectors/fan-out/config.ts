import { type Static, Type } from '@sinclair/typebox';

export const FanOutConfigSchema = Type.Object(
  {
    /** a trace is closed (its backend calls counted) this long after its front-end call, event time */
    trace_ttl_ms: Type.Integer({ minimum: 100, default: 30_000, description: 'how long a trace stays open, ms' }),
    /** closed traces a front-end endpoint needs before its baseline is trusted */
    min_traces: Type.Integer({ minimum: 1, default: 50, description: 'traces before alerting' }),
    /** alert above this multiple of the endpoint's mean backend calls per request */
    factor: Type.Number({ minimum: 1, default: 4, description: 'multiple of the mean' }),
    /** ... and above the mean plus this many standard deviations */
    sigma_k: Type.Number({ minimum: 0, default: 6, description: 'standard deviations above the mean' }),
    /** never alert below this many backend calls in one trace */
    min_calls: Type.Integer({ minimum: 1, default: 20, description: 'absolute floor' }),
    max_pending: Type.Integer({ minimum: 1, default: 50_000, description: 'cap on open traces (oldest closed early)' }),
    max_endpoints: Type.Integer({
      minimum: 1,
      default: 10_000,
      description: 'cap on front-end endpoints with a baseline',
    }),
  },
  { additionalProperties: false },
);
export type FanOutConfig = Static<typeof FanOutConfigSchema>;
