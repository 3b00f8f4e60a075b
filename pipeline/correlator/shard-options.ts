import type { MeshwardConfig } from '../config/schema.js';
import { parseRootCauseConfig, type RootCauseConfig, resolveAcrossServices } from './root-cause/config.js';
import type { ShardOptions } from './shard.js';

/**
 * The shard settings of a config's correlator section, for the correlator and for `meshward replay` alike, so a replay
 * of a deployment's records raises the deployment's alerts. `across_services: auto` is decided as the correlator
 * decides it: across services for the embedded bus with one partition, not for Kafka.
 */
export function shardOptionsOf(config: MeshwardConfig): ShardOptions & { rootCause: RootCauseConfig } {
  const c = config.correlator;
  return {
    windowMs: c.window_seconds * 1000,
    latenessMs: c.lateness_seconds * 1000,
    endpointSeries: c.endpoint_series,
    maxSeries: c.max_series_per_partition,
    resolveAfterMs: c.resolve_after_minutes * 60_000,
    rootCause: resolveAcrossServices(parseRootCauseConfig(c.root_cause ?? {}), config.bus),
  };
}
