import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { simulate } from '../../pipeline/simulate/simulate.js';
import type { KafkaRedis } from './kafka-redis.js';
import { startRole, writeConfig } from './meshward.js';
import type { Child } from './processes.js';

/** The spine as the cross-process tests run it: roles as processes over Kafka (the mock) and Redis, fed simulated traffic. */

/**
 * 100 minutes of simulated mesh traffic from `start` (about 48,000 calls at 3 requests a second) with an error burst at
 * minute 75, after the baselines have formed
 */
export function errorBurstTraffic(seed: number, start: number): ApiCallRecord[] {
  return simulate({
    seed,
    start,
    durationMs: 100 * 60_000,
    rps: 3,
    anomalies: [{ kind: 'error_burst', at: start + 75 * 60_000 }],
  }).records;
}

/**
 * a config for the roles over `engines`: a collector taking `sensorToken`, an API with `apiKey` for a viewer (both
 * named `name`), a correlator checkpointing every 300 ms, its idle watermark off; returns its path
 */
export function spineConfig(engines: KafkaRedis, opts: { name: string; sensorToken: string; apiKey: string }): string {
  return writeConfig({
    log_level: 'warn',
    ...engines.sections(),
    collector: { listen: '127.0.0.1:0', sensor_tokens: [{ id: opts.name, token: opts.sensorToken }] },
    api: { listen: '127.0.0.1:0', api_keys: [{ name: opts.name, role: 'viewer', key: opts.apiKey }] },
    // the idle watermark off: the tests compare with an offline replay, which has no wall clock, and a slow machine
    // leaving a partition idle past it would close the traffic's last windows (a traffic_drop at every service)
    correlator: { checkpoint_interval_ms: 300, idle_after_seconds: 0 },
  });
}

/** starts the API, then the collector, as processes (added to `children`, for the test to stop); their URLs */
export async function startApiAndCollector(
  config: string,
  children: Child[],
): Promise<{ apiUrl: string; collectorUrl: string }> {
  const api = await startRole('api', config);
  children.push(api.child);
  const collector = await startRole('collector', config);
  children.push(collector.child);
  return { apiUrl: api.url as string, collectorUrl: collector.url as string };
}
