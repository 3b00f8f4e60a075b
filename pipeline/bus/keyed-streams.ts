import type { MeshwardConfig } from '../config/schema.js';
import type { ApiCallRecord } from '../core/record.js';
import { detectorRuns } from '../detectors/registry.js';
import { type OutMessage, TOPICS } from './bus.js';
import { partitionFor } from './partitioner.js';

/**
 * whether a correlator's shards see only part of the services: the embedded bus with several partitions, or Kafka
 * (a topic is taken to have several). Then what spans services is counted across partitions (Correlator meshCounts)
 * and keyed streams are on by default
 */
export function partitionedBus(bus: MeshwardConfig['bus']): boolean {
  return bus.kind === 'kafka' || bus.partitions > 1;
}

/**
 * A stream of the records keyed by something other than their service, for the one detector whose state is keyed by
 * it: the collector writes each record that has the key to the stream's topic too, and the correlator runs that
 * detector on the stream only (a consumer group of its own). With records keyed by service, a trace's calls or a
 * token's uses are spread over every partition their services are on, and each shard would see a part.
 */
export interface KeyedStream {
  /** its consumer group is `<correlator.group_id>.<name>` */
  name: 'trace' | 'token';
  topic: string;
  /** the detector type that runs on the stream, and not on the calls topic */
  detector: string;
  /** the record's key on the stream; undefined: the record is not written to it */
  keyOf(r: ApiCallRecord): string | undefined;
}

/** every keyed stream, and the detector each one is for */
export const KEYED_STREAMS: readonly KeyedStream[] = [
  { name: 'trace', topic: TOPICS.callsByTrace, detector: 'fan_out', keyOf: (r) => r.trace?.traceId || undefined },
  {
    name: 'token',
    topic: TOPICS.callsByToken,
    detector: 'token_mismatch',
    keyOf: (r) => r.user?.tokenHash || undefined,
  },
];

/**
 * Buckets of a stream's key: the records of one ingest batch go to a stream as one message per bucket (a JSON array),
 * keyed `b<bucket>`, so a batch of 500 records is at most this many messages rather than 500 (Kafka's cost is mostly
 * per message). A key is always in the same bucket, so in the same partition: a trace stays whole
 */
export const STREAM_BUCKETS = 64;

/** the bucket of a stream key (FNV-1a) */
export function bucketOf(key: string): number {
  return partitionFor(key, STREAM_BUCKETS);
}

/**
 * the stream messages of an ingest batch: its records that have the key, one message per bucket; `messages` are the
 * records as the calls topic gets them (the same order), whose serialised values the bundles join
 */
export function bundles(
  stream: KeyedStream,
  records: readonly ApiCallRecord[],
  messages: readonly OutMessage[],
): OutMessage[] {
  const byBucket = new Map<number, string[]>();
  for (let i = 0; i < records.length; i++) {
    const key = stream.keyOf(records[i]);
    if (key === undefined) continue;
    const b = bucketOf(key);
    const list = byBucket.get(b);
    const value = String(messages[i].value);
    if (list) list.push(value);
    else byBucket.set(b, [value]);
  }
  return [...byBucket].map(([b, list]) => ({ key: `b${b}`, value: `[${list.join(',')}]` }));
}

/**
 * The keyed streams a config has (correlator.keyed_streams): `auto` on for a partitioned bus (Kafka, or an embedded
 * bus of several partitions), each one only when its detector runs. The collector and the correlator decide alike
 */
export function keyedStreamsOf(config: Pick<MeshwardConfig, 'bus' | 'correlator' | 'detectors'>): KeyedStream[] {
  const mode = config.correlator.keyed_streams;
  if (!(mode === 'auto' ? partitionedBus(config.bus) : mode)) return [];
  return KEYED_STREAMS.filter((s) => detectorRuns(config.detectors?.[s.detector]));
}
