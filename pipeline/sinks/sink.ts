import type { TSchema } from '@sinclair/typebox';
import type { Bus } from '../bus/bus.js';
import type { Alert } from '../core/alert.js';
import type { Logger } from '../core/logger.js';
import type { DeliverMode } from './delivery/config.js';

/** An alert sink: delivers alert changes somewhere outside (SIEM, chat, webhook, a topic). */
export interface AlertSink {
  readonly type: string;
  /** deliver one batch; throw a MeshwardError SINK_FAILED (retryable) or another catalogue error */
  send(alerts: Alert[]): Promise<void>;
  close?(): Promise<void>;
}

export interface SinkDeps {
  logger: Logger;
  bus: Bus;
  /** the sink's key as the config writes it (`sinks.webhook/soc`), to name it in errors */
  where?: string;
}

export interface SinkFactory<C = unknown> {
  /** lower_snake_case type id; config keys are `type` or `type/name` */
  readonly type: string;
  readonly configSchema: TSchema;
  readonly defaultConfig: C;
  /** `deliver` when the config says none (sinks/delivery/config.ts); absent: all */
  defaultDeliver?(config: C): DeliverMode;
  create(config: C, deps: SinkDeps): AlertSink;
}
