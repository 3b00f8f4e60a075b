import type { SinkFactory } from '../sink.js';
import { WebhookSinkConfig } from './config.js';
import { WebhookSink } from './webhook-sink.js';

export const webhookSinkFactory: SinkFactory<WebhookSinkConfig> = {
  type: 'webhook',
  configSchema: WebhookSinkConfig,
  defaultConfig: { url: 'http://127.0.0.1:9/', format: 'json', timeout_ms: 5000 },
  // people read Slack: a message per refresh of an ongoing incident (one a minute) gets the channel muted. JSON and
  // OCSF receivers are machines that dedupe by the alert's id, and want every change
  defaultDeliver: (config) => (config.format === 'slack' ? 'changes' : 'all'),
  create: (config, deps) => new WebhookSink(config, deps.where),
};
