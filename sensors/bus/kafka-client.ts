import { type KafkaConfig, type LogEntry, logLevel } from 'kafkajs';
import { kafkaSecurityOptions } from '../../pipeline/bus/kafka-security.js';
import type { Logger } from '../../pipeline/core/logger.js';
import type { BusSensorConfig } from './config.js';

function kafkaLogger(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) logger.error(extra, `kafka: ${message}`);
      else if (level === logLevel.WARN) logger.warn(extra, `kafka: ${message}`);
    };
}

/**
 * The kafkajs client options of a bus sensor: its brokers and client id, TLS with the CA bundle's content and SASL
 * with the password read from its file now (kafkaSecurityOptions, as the pipeline's own bus reads them). `where` is
 * the receiver as the config declares it (`receivers.bus/orders`), which a missing, empty or unreadable file's
 * MW_ERR_CONFIG_INVALID names with the option; the password itself is never logged.
 */
export function busKafkaConfig(config: BusSensorConfig, where: string, logger: Logger): KafkaConfig {
  return {
    clientId: config.client_id,
    brokers: config.brokers,
    ...kafkaSecurityOptions(config, where),
    logLevel: logLevel.WARN,
    logCreator: kafkaLogger(logger),
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
}
