import type { Alert } from '../../core/alert.js';
import { toOcsf } from '../formats/ocsf.js';
import type { SinkFactory } from '../sink.js';
import { TopicSinkConfig } from './config.js';

/** publishes alert changes (as OCSF by default) to a topic of the bus, keyed by alert id */
export const topicSinkFactory: SinkFactory<TopicSinkConfig> = {
  type: 'topic',
  configSchema: TopicSinkConfig,
  defaultConfig: { topic: 'meshward.alerts.ocsf', format: 'ocsf' },
  create: (config, deps) => ({
    type: 'topic',
    send: async (alerts: Alert[]) => {
      await deps.bus.publish(
        config.topic,
        alerts.map((a) => ({ key: a.id, value: JSON.stringify(config.format === 'ocsf' ? toOcsf(a) : a) })),
      );
    },
  }),
};
