import { Type } from '@sinclair/typebox';

/**
 * The config of a tracker that counts per (subject, endpoint) pair against a per-endpoint baseline (enumeration,
 * data_volume): who counts as a subject and the caps on the pairs and the baselines kept
 */
export const SUBJECT_PAIR_LIMITS = {
  /** also count workloads (service principals) as subjects; off: only users, tokens and client addresses */
  workload_subjects: Type.Boolean({ default: false, description: 'treat workloads as subjects' }),
  max_subjects: Type.Integer({
    minimum: 1,
    default: 100_000,
    description: 'cap on tracked (subject, endpoint) pairs',
  }),
  max_endpoints: Type.Integer({ minimum: 1, default: 10_000, description: 'cap on endpoints with a baseline' }),
};
