import { bucketOf, KEYED_STREAMS } from '../../pipeline/bus/keyed-streams.js';
import { partitionFor } from '../../pipeline/bus/partitioner.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { replay } from '../../pipeline/correlator/replay.js';
import type { Detector } from '../../pipeline/detectors/detector.js';
import { type AnomalyRequest, METRIC_KINDS, TRACKER_KINDS } from '../../pipeline/simulate/anomalies/index.js';
import type { AnomalyLabel } from '../../pipeline/simulate/labels.js';
import { simulate } from '../../pipeline/simulate/simulate.js';
import { metricDetectors, SHARD_SETTINGS, trackerDetectors } from './config.js';
import { type KindScore, score } from './match.js';

export const START = Date.UTC(2024, 5, 3, 8);

export interface RunPlan {
  name: string;
  seed: number;
  minutes: number;
  rps: number;
  warmupShare: number;
  anomalies: AnomalyRequest[];
  detectors: () => Detector[];
  /** kinds this run is scored on */
  kinds: readonly string[];
}

export interface RunResult {
  plan: RunPlan;
  records: number;
  labels: AnomalyLabel[];
  alerts: Alert[];
  /** ms spent simulating and replaying */
  simulateMs: number;
  replayMs: number;
}

/** how a run is replayed */
export interface ReplayShape {
  /** false: symptoms folded per service only (the default of a correlator that does not see the whole mesh) */
  acrossServices?: boolean;
  /**
   * replay as a deployment of this many partitions would see it (Kafka): the records split by service over that many
   * shards (the bus's partitioner), each replayed on its own with its own detectors; default 1, one shard
   */
  partitions?: number;
  /** with partitions: fan_out and token_mismatch on keyed streams, as correlator.keyed_streams does (default true) */
  keyedStreams?: boolean;
}

/** records split into `n` shards by a key (records without one are left out) */
function split(records: readonly ApiCallRecord[], n: number, keyOf: (r: ApiCallRecord) => string | undefined) {
  const shards: ApiCallRecord[][] = Array.from({ length: n }, () => []);
  for (const r of records) {
    const key = keyOf(r);
    if (key !== undefined) shards[partitionFor(key, n)].push(r);
  }
  return shards;
}

/**
 * The alerts of a partitioned deployment, replayed offline: each partition of the calls topic (records keyed by
 * service) a shard with the detectors, but those of the keyed streams, which run on their stream's partitions (records
 * keyed by their key's bucket, as the collector writes them)
 */
export async function replayPartitioned(
  records: readonly ApiCallRecord[],
  detectors: () => Detector[],
  shard: object,
  partitions: number,
  keyedStreams: boolean,
): Promise<Alert[]> {
  const streams = keyedStreams ? KEYED_STREAMS : [];
  const onStreams = new Set(streams.map((s) => s.detector));
  const alerts: Alert[] = [];
  for (const part of split(records, partitions, (r) => r.service))
    alerts.push(...(await replay(part, { ...shard, detectors: detectors().filter((d) => !onStreams.has(d.type)) })));
  for (const s of streams) {
    const keyed = split(records, partitions, (r) => {
      const key = s.keyOf(r);
      return key === undefined ? undefined : `b${bucketOf(key)}`;
    });
    for (const part of keyed)
      alerts.push(
        ...(await replay(part, {
          ...shard,
          endpointSeries: false,
          detectors: detectors().filter((d) => d.type === s.detector),
        })),
      );
  }
  return alerts;
}

/** simulate one run and replay it through the real correlator path (windows, detectors, alert manager) */
export async function runPlan(plan: RunPlan, opts: ReplayShape = {}): Promise<RunResult> {
  const t0 = performance.now();
  const sim = simulate({
    seed: plan.seed,
    start: START,
    durationMs: plan.minutes * 60_000,
    rps: plan.rps,
    anomalies: plan.anomalies,
    warmupShare: plan.warmupShare,
  });
  const t1 = performance.now();
  const shard =
    opts.acrossServices === false
      ? { rootCause: { ...SHARD_SETTINGS.rootCause, across_services: false } }
      : SHARD_SETTINGS;
  const partitions = opts.partitions ?? 1;
  const alerts =
    partitions > 1
      ? await replayPartitioned(sim.records, plan.detectors, shard, partitions, opts.keyedStreams !== false)
      : await replay(sim.records, { ...shard, detectors: plan.detectors() });
  const t2 = performance.now();
  return { plan, records: sim.records.length, labels: sim.labels, alerts, simulateMs: t1 - t0, replayMs: t2 - t1 };
}

/**
 * The evaluation: tracker kinds and metric kinds are injected in separate runs (a burst of attack requests is a real
 * traffic change, so mixing them would blur what each detector is scored on), each kind several times over seeds.
 * A clean run (no anomalies) is scored for false positives of every kind.
 */
export function defaultPlans(opts: { trackerSeeds?: number[]; metricSeeds?: number[] } = {}): RunPlan[] {
  const plans: RunPlan[] = [];
  for (const seed of opts.trackerSeeds ?? [11, 12, 13, 14, 15]) {
    plans.push({
      name: `trackers seed ${seed}`,
      seed,
      minutes: 80,
      rps: 10,
      warmupShare: 0.35,
      anomalies: TRACKER_KINDS.map((kind) => ({ kind })),
      detectors: () => trackerDetectors(),
      kinds: TRACKER_KINDS,
    });
  }
  for (const seed of opts.metricSeeds ?? [21, 22, 23, 24]) {
    plans.push({
      name: `metrics seed ${seed}`,
      seed,
      minutes: 110,
      rps: 10,
      warmupShare: 0.65,
      anomalies: METRIC_KINDS.map((kind) => ({ kind })),
      detectors: () => metricDetectors(),
      kinds: METRIC_KINDS,
    });
  }
  plans.push({
    name: 'clean seed 31',
    seed: 31,
    minutes: 110,
    rps: 10,
    warmupShare: 0.65,
    anomalies: [],
    detectors: () => [...trackerDetectors(), ...metricDetectors()],
    kinds: [...TRACKER_KINDS, ...METRIC_KINDS],
  });
  return plans;
}

/** per-kind scores summed over runs (each run scored on its own kinds) */
export function combine(results: readonly RunResult[]): KindScore[] {
  const byKind = new Map<string, KindScore>();
  for (const r of results) {
    // alerts of kinds a run does not inject and does not score are ignored there (see defaultPlans)
    for (const s of score(r.plan.kinds, r.labels, r.alerts)) {
      const acc = byKind.get(s.kind);
      if (!acc) {
        byKind.set(s.kind, { ...s, falsePositives: [...s.falsePositives], missed: [...s.missed] });
        continue;
      }
      acc.labels += s.labels;
      acc.found += s.found;
      acc.alerts += s.alerts;
      acc.truePositives += s.truePositives;
      acc.falsePositives.push(...s.falsePositives);
      acc.missed.push(...s.missed);
    }
  }
  for (const s of byKind.values()) {
    s.recall = s.labels === 0 ? Number.NaN : s.found / s.labels;
    s.precision = s.alerts === 0 ? Number.NaN : s.truePositives / s.alerts;
  }
  return [...METRIC_KINDS, ...TRACKER_KINDS].map((k) => byKind.get(k)).filter((s): s is KindScore => s !== undefined);
}
