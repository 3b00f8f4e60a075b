import type { RecordIngest } from '../../pipeline/collector/ingest.js';
import type { Logger } from '../../pipeline/core/logger.js';
import { counter } from '../../pipeline/core/metrics.js';
import type { BusSensorConfig } from './config.js';
import { busSensorFactory } from './factory.js';
import type { CompiledMapping } from './mapping.js';

export interface BusReceiverOptions {
  ingest: RecordIngest;
  logger: Logger;
  /** the mapping compiled when the config was checked (busSensorFactory.compile): the sensor taps what was checked */
  mapping: CompiledMapping;
  /** the receiver's key in the `receivers:` section (`bus`, `bus/orders`), which its errors name */
  key?: string;
  /** the first wait after a failed start, doubled each failure up to `maxRetryMs` (defaults 1 s and 60 s) */
  retryMs?: number;
  maxRetryMs?: number;
}

const startFailuresTotal = () =>
  counter(
    'meshward_bus_sensor_start_failures_total',
    'failed starts of a bus receiver (brokers unreachable), each retried after a doubling wait',
    ['sensor'],
  );

/**
 * The bus sensor as a receiver of `meshward start`, feeding the collector's ingest. Brokers that cannot be reached
 * do not stop the process: the start is retried in the background with a doubling wait, each failure logged, until
 * it succeeds or the receiver is closed. The config must already be checked (busSensorFactory.compile). The CA and
 * SASL password files are read now: one that cannot be read throws MW_ERR_CONFIG_INVALID before anything connects.
 */
export function startBusReceiver(config: BusSensorConfig, opts: BusReceiverOptions): { close(): Promise<void> } {
  const { logger } = opts;
  const sensor = busSensorFactory.create(config, {
    ingest: opts.ingest,
    logger,
    mapping: opts.mapping,
    key: opts.key,
  });
  const firstWait = opts.retryMs ?? 1_000;
  const maxWait = opts.maxRetryMs ?? 60_000;
  const startFailures = startFailuresTotal();
  let closed = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (): Promise<void> => {
    try {
      await sensor.start();
      if (!closed) logger.info({ brokers: config.brokers, attempts: failures + 1 }, 'bus sensor consuming');
    } catch (err) {
      if (closed) return;
      const wait = Math.min(maxWait, firstWait * 2 ** failures++);
      startFailures.inc({ sensor: config.sensor_id });
      // `failures` is the attempt that failed (1, 2, …), `retry_in_ms` the wait before the next; brokers are host:port
      logger.warn(
        { err: (err as Error).message, brokers: config.brokers, failures, retry_in_ms: wait },
        'bus sensor could not start (brokers unreachable?); retrying',
      );
      timer = setTimeout(() => void attempt(), wait);
    }
  };
  void attempt();
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await sensor.shutdown();
    },
  };
}
