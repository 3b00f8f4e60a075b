import { type TObject, Type } from '@sinclair/typebox';
import { checkInstanceName, checkSection } from '../config/section.js';
import { TOPICS, type Bus, type Subscription } from '../bus/bus.js';
import { type Alert, SEVERITY_RANK } from '../core/alert.js';
import { isRetryable, mwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import { MemoryStore } from '../store/memory-store.js';
import type { Store } from '../store/store.js';
import { cefSyslogSinkFactory } from './cef-syslog/factory.js';
import { DEFAULT_REPEAT_MINUTES, type SinkDelivery, SinkDeliveryConfig } from './delivery/config.js';
import { changesGate } from './delivery/changes-gate.js';
import { DeliveredAlerts } from './delivery/delivered-alerts.js';
import type { AlertSink, SinkFactory } from './sink.js';
import { topicSinkFactory } from './topic/factory.js';
import { webhookSinkFactory } from './webhook/factory.js';

export const ALERTS_DLQ = 'meshward.alerts.dlq';
/** how much longer than a sink's retry budget (attempts × max delay) its claim of a change lasts */
const CLAIM_MARGIN_MS = 5 * 60_000;
const FACTORIES: SinkFactory<never>[] = [
  webhookSinkFactory,
  cefSyslogSinkFactory,
  topicSinkFactory,
] as SinkFactory<never>[];
/** each sink type's schema with the delivery options every sink takes merged in (built once) */
const SCHEMAS = new Map(
  FACTORIES.map((f) => [
    f.type,
    Type.Object(
      { ...(f.configSchema as TObject).properties, ...SinkDeliveryConfig.properties },
      { additionalProperties: false },
    ),
  ]),
);

const delivered = counter('meshward_sink_delivered_total', 'alert changes delivered by a sink', ['sink']);
const retried = counter('meshward_sink_retries_total', 'sink delivery retries', ['sink']);
const skipped = counter(
  'meshward_sink_skipped_total',
  "alert changes a sink left out: reason below_min_severity (the sink's min_severity), silenced (an analyst silenced the alert), folded (folded into another alert across partitions), unchanged (deliver: changes, a refresh) or claimed (deliver: changes, another API replica delivers it)",
  ['sink', 'reason'],
);
const deadLettered = counter('meshward_sink_dead_letters_total', 'alert changes a sink gave up on (sent to the DLQ)', [
  'sink',
]);

/** an alert change read from the alerts topic, or undefined when it is not one (not JSON, not an object) */
function parseAlert(value: Buffer): Alert | undefined {
  try {
    const a: unknown = JSON.parse(value.toString('utf8'));
    return typeof a === 'object' && a !== null ? (a as Alert) : undefined;
  } catch {
    return undefined;
  }
}

export interface CompiledSink {
  name: string;
  delivery: SinkDelivery;
  create(bus: Bus, logger: Logger): AlertSink;
}

/** validates the `sinks:` section (keys `type` or `type/name`), failing fast with the bad key named */
export function compileSinks(section: Record<string, unknown> | undefined): CompiledSink[] {
  return Object.entries(section ?? {}).map(([name, raw]) => {
    const type = name.split('/')[0];
    const factory = FACTORIES.find((f) => f.type === type);
    if (!factory)
      throw mwError(
        'CONFIG_INVALID',
        `sinks.${name}: unknown sink type ${type} (known: ${FACTORIES.map((f) => f.type).join(', ')})`,
      );
    checkInstanceName('sinks', name, type);
    const { deliver, repeat_minutes, min_severity, ...config } = checkSection(
      SCHEMAS.get(type) as TObject,
      raw,
      `sinks.${name}`,
    ) as SinkDeliveryConfig;
    const mode = deliver ?? factory.defaultDeliver?.(config as never) ?? 'all';
    if (mode === 'all' && repeat_minutes !== undefined)
      throw mwError(
        'CONFIG_INVALID',
        `sinks.${name}.repeat_minutes: applies only with deliver: changes (this sink delivers all alert changes)`,
      );
    return {
      name,
      delivery: {
        deliver: mode,
        repeatMs: (repeat_minutes ?? DEFAULT_REPEAT_MINUTES) * 60_000,
        minSeverity: min_severity ?? 'info',
      },
      create: (bus, logger) => factory.create(config as never, { bus, logger, where: `sinks.${name}` }),
    };
  });
}

export interface SinkRunnerOptions {
  /**
   * which alerts not to deliver (an analyst silenced them), counted per sink: asked once per batch, it answers for
   * each alert of the batch
   */
  skip?: () => Promise<(alert: Alert) => boolean>;
  /**
   * whether an alert is folded into another's (root-cause or subject folding across partitions by the API,
   * MeshFolder.isFolded): not delivered, counted per sink (`reason="folded"`), as one shard would not have raised it
   */
  folded?: (alert: Alert) => Promise<boolean>;
  /**
   * where a sink in `deliver: changes` keeps what it delivered (shared by API replicas, kept over restarts); absent:
   * a store of this process alone
   */
  store?: Store;
  /** the clock of `repeat_minutes` (tests) */
  now?: () => number;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs one sink as its own consumer group of the alerts topic: delivery with jittered exponential backoff, and a
 * dead-letter (topic `meshward.alerts.dlq`, with the sink, the error and the alert) when it keeps failing, so one
 * broken SIEM never stalls the others or loses the record of what it missed.
 */
export async function runSink(
  bus: Bus,
  logger: Logger,
  compiled: CompiledSink,
  opts: SinkRunnerOptions = {},
): Promise<Subscription & { sink: AlertSink }> {
  const sink = compiled.create(bus, logger);
  const attempts = opts.attempts ?? 5;
  const base = opts.baseDelayMs ?? 200;
  const max = opts.maxDelayMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const { repeatMs } = compiled.delivery;
  const minRank = SEVERITY_RANK[compiled.delivery.minSeverity];
  // a claim outlives the retries of the delivery it guards (plus the sends themselves)
  const claimTtlMs = attempts * max + CLAIM_MARGIN_MS;
  const record =
    compiled.delivery.deliver === 'changes'
      ? new DeliveredAlerts(opts.store ?? new MemoryStore(), compiled.name, logger, now)
      : undefined;
  const sub = await bus.subscribe({
    groupId: `meshward-sink-${compiled.name.replace(/[^\w.-]/g, '_')}`,
    topics: [TOPICS.alerts],
    fromBeginning: false,
    onBatch: async (batch) => {
      const alerts: Alert[] = [];
      for (const m of batch.messages) {
        const a = parseAlert(m.value);
        if (!a) continue; // not an alert: the API's consumer counts these
        // before deliver: changes weighs it, so what is left out here is never written down as delivered
        if (SEVERITY_RANK[a.severity] < minRank) skipped.inc({ sink: compiled.name, reason: 'below_min_severity' });
        else alerts.push(a);
      }
      const skip = opts.skip ? await opts.skip() : undefined;
      const gate = record ? await changesGate(record, alerts, now, repeatMs, claimTtlMs) : undefined;
      for (const a of alerts) {
        if (skip?.(a)) {
          skipped.inc({ sink: compiled.name, reason: 'silenced' });
          continue;
        }
        if (opts.folded && (await opts.folded(a).catch(() => false))) {
          skipped.inc({ sink: compiled.name, reason: 'folded' });
          continue;
        }
        const admission = await gate?.admit(a);
        if (admission && !admission.deliver) {
          skipped.inc({ sink: compiled.name, reason: admission.reason });
          continue;
        }
        let lastErr: unknown;
        for (let i = 0; i < attempts; i++) {
          try {
            await sink.send([a]);
            delivered.inc({ sink: compiled.name });
            lastErr = undefined;
            break;
          } catch (err) {
            lastErr = err;
            if (!isRetryable(err)) break;
            retried.inc({ sink: compiled.name });
            const delay = Math.min(max, base * 2 ** i) * (0.5 + Math.random() / 2);
            await new Promise((r) => setTimeout(r, delay));
          }
        }
        if (!lastErr) {
          await gate?.delivered(a);
          continue;
        }
        if (admission?.deliver) await gate?.failed(a, admission.claim);
        deadLettered.inc({ sink: compiled.name });
        logger.warn(
          { sink: compiled.name, alertId: a.id, err: (lastErr as Error).message },
          'sink gave up; alert sent to the dead-letter topic',
        );
        await bus.publish(ALERTS_DLQ, [
          {
            key: a.id,
            value: JSON.stringify({
              sink: compiled.name,
              error: (lastErr as Error).message,
              alert: a,
              ts: Date.now(),
            }),
          },
        ]);
      }
      await record?.pruneIfDue();
    },
  });
  return {
    sink,
    lag: () => sub.lag(),
    commit: (topic, partition, offset) => sub.commit(topic, partition, offset),
    close: async () => {
      await sub.close();
      await sink.close?.();
    },
  };
}
