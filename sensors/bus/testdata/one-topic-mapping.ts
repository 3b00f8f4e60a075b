import type { BusSensorConfig } from '../config.js';

/** the smallest inline mapping a bus sensor takes: one request topic, no reply topic (tests that only create one) */
export const ONE_TOPIC_MAPPING: NonNullable<BusSensorConfig['mapping']> = {
  topics: [
    { topic: 't', service: 's', operation: 'm', caller_kind: 'service', correlation_header: 'c', timeout_ms: 10 },
  ],
};
