import type { Bus } from '../bus/bus.js';
import { createKafkaBus } from '../bus/kafka-bus.js';
import { kafkaBusOptionsFromConfig } from '../bus/kafka-config.js';
import { MemoryBus } from '../bus/memory-bus.js';
import type { MeshwardConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { MemoryStore } from '../store/memory-store.js';
import { createRedisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';
import { join } from 'node:path';

/** the bus the config names: in-process (embedded) or Kafka */
export function openBus(config: MeshwardConfig, logger: Logger): Bus {
  if (config.bus.kind === 'kafka' && config.bus.kafka) {
    return createKafkaBus({ ...kafkaBusOptionsFromConfig(config.bus.kafka), logger });
  }
  return new MemoryBus({
    partitions: config.bus.partitions,
    maxBacklogPerPartition: config.bus.max_backlog_per_partition,
  });
}

/** the store the config names: in-memory with the data directory (embedded) or Redis */
export function openStore(config: MeshwardConfig): Store {
  if (config.store.kind === 'redis' && config.store.url) return createRedisStore({ url: config.store.url });
  return new MemoryStore({ dataDir: join(config.data_dir, 'store') });
}
