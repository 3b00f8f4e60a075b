import { type Static, Type } from '@sinclair/typebox';

export const ParamProfileConfigSchema = Type.Object(
  {
    /** records an endpoint needs before its profile is used (injection patterns are checked from the start) */
    learning_records: Type.Integer({ minimum: 1, default: 300, description: 'records per endpoint before alerting' }),
    /** event time from an endpoint's first record before its profile is used */
    learning_ms: Type.Integer({ minimum: 0, default: 1_800_000, description: 'learning period per endpoint, ms' }),
    /** a parameter with at most this many distinct values is an enumeration */
    enum_max_values: Type.Integer({ minimum: 1, default: 12, description: 'cardinality limit of enum parameters' }),
    /** observations of a parameter before its value set is trusted as an enumeration */
    enum_min_samples: Type.Integer({ minimum: 1, default: 100, description: 'samples before enum checks' }),
    /** numbers may stray this many learned spans beyond the learned [min, max] */
    range_tolerance: Type.Number({ minimum: 0, default: 1, description: 'allowed overshoot in learned spans' }),
    /** strings may be this many times longer than the longest learned one (plus 16 characters) */
    length_factor: Type.Number({ minimum: 1, default: 3, description: 'allowed growth of string length' }),
    /** check values for SQL, script, path traversal and shell injection shapes */
    injection_checks: Type.Boolean({ default: true, description: 'pattern checks for injection' }),
    max_endpoints: Type.Integer({ minimum: 1, default: 5000, description: 'cap on profiled endpoints' }),
    max_params_per_endpoint: Type.Integer({
      minimum: 1,
      default: 64,
      description: 'cap on profiled parameters per endpoint',
    }),
  },
  { additionalProperties: false },
);
export type ParamProfileConfig = Static<typeof ParamProfileConfigSchema>;
