import { defineCounter } from './abi';

/** the sensor's own counters, defined once per VM (Envoy shares them by name across workers) */
export class Metrics {
  sent: u32 = defineCounter('meshward_sensor.records_sent');
  dropped: u32 = defineCounter('meshward_sensor.records_dropped');
  failed: u32 = defineCounter('meshward_sensor.records_failed');
  rejected: u32 = defineCounter('meshward_sensor.records_rejected');
  sampledOut: u32 = defineCounter('meshward_sensor.records_sampled_out');
  skipped: u32 = defineCounter('meshward_sensor.records_skipped');
  truncated: u32 = defineCounter('meshward_sensor.fields_truncated');
  batchesSent: u32 = defineCounter('meshward_sensor.batches_sent');
  batchesFailed: u32 = defineCounter('meshward_sensor.batches_failed');
  configRejected: u32 = defineCounter('meshward_sensor.config_rejected');
}
