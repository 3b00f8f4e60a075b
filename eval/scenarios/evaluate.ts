import { bucketOf, KEYED_STREAMS } from '../../pipeline/bus/keyed-streams.js';
import { partitionFor } from '../../pipeline/bus/partitioner.js';
import type { Alert } from '../../pipeline/core/alert.js';
import type { ApiCallRecord } from '../../pipeline/core/record.js';
import { replay } from '../../pipeline/correlator/replay.js';
import { Shard } from '../../pipeline/correlator/shard.js';
import { parseRootCauseConfig } from '../../pipeline/correlator/root-cause/config.js';
import { AlertRepository } from '../../pipeline/alerts/alert-repository.js';
import { MeshFolder } from '../../pipeline/alerts/mesh-folder.js';
import type { Detector } from '../../pipeline/detectors/detector.js';
import { type AnomalyRequest, METRIC_KINDS, TRACKER_KINDS } from '../../pipeline/simulate/anomalies/index.js';
import type { AnomalyLabel } from '../../pipeline/simulate/labels.js';
import { simulate } from '../../pipeline/simulate/simulate.js';
import { MemoryStore } from '../../pipeline/store/memory-store.js';
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
   * shards (the bus's partitioner), each with its own detectors, synced through one store (replayPartitioned);
   * default 1, one shard
   */
  partitions?: number;
  /** with partitions: fan_out and token_mismatch on keyed streams, as correlator.keyed_streams does (default true) */
  keyedStreams?: boolean;
  /**
   * with partitions: the alerts stored as the API stores them, folding symptoms into their root cause across
   * partitions along the call graph the shards write (MeshFolder; default true); folded alerts are left out
   */
  meshFolding?: boolean;
}

/** a topic in the replay: the key its records are partitioned by, and a shard per partition */
interface ReplayTopic {
  keyOf: (r: ApiCallRecord) => string | undefined;
  shards: Shard[];
}

/** records between two syncs of the shards' shared counts (a correlator syncs after a batch) */
const SYNC_EVERY = 1024;

/**
 * The alerts of a partitioned deployment, replayed offline: each partition of the calls topic (records keyed by
 * service) a shard with the detectors, but those of the keyed streams, which run on their stream's partitions (records
 * keyed by their key's bucket, as the collector writes them). The shards take the records in their order and, every
 * SYNC_EVERY records, sync what they count across partitions through one in-memory store (custom rules' shared counts,
 * fan_out's shared alerts), as the correlators of a deployment do after each batch
 */
export async function replayPartitioned(
  records: readonly ApiCallRecord[],
  detectors: () => Detector[],
  shard: object,
  partitions: number,
  keyedStreams: boolean,
  meshFolding = true,
): Promise<Alert[]> {
  const streams = keyedStreams ? KEYED_STREAMS : [];
  const onStreams = new Set(streams.map((s) => s.detector));
  const store = new MemoryStore();
  const topics: ReplayTopic[] = [];
  const topic = (group: string, keyOf: ReplayTopic['keyOf'], only: (d: Detector) => boolean, opts: object) => {
    const shards = Array.from({ length: partitions }, (_, partition) => {
      const s = new Shard(detectors().filter(only), { ...shard, ...opts });
      s.joinMesh({ store, partition, group });
      return s;
    });
    topics.push({ keyOf, shards });
  };
  topic(
    'g',
    (r) => r.service,
    (d) => !onStreams.has(d.type),
    {},
  );
  for (const s of streams)
    topic(
      `g.${s.name}`,
      (r) => {
        const key = s.keyOf(r);
        return key === undefined ? undefined : `b${bucketOf(key)}`;
      },
      (d) => d.type === s.detector,
      { endpointSeries: false },
    );
  const alerts = new Map<string, Alert>();
  const repo = new AlertRepository(store);
  const rootCause = parseRootCauseConfig((shard as { rootCause?: object }).rootCause ?? {});
  const folder = meshFolding
    ? new MeshFolder(store, repo, {
        group: 'g',
        symptomsAt: rootCause.symptoms_at,
        subjectsFoldInto: rootCause.subjects_fold_into,
        foldWithinMs: rootCause.fold_within_seconds * 1000,
      })
    : undefined;
  const sync = async () => {
    for (const t of topics)
      for (const s of t.shards) {
        await s.syncMesh();
        for (const a of s.drain().alerts) {
          alerts.set(a.id, a);
          // as the API stores it
          const stored = await repo.upsert(a);
          await folder?.consider(stored);
        }
      }
  };
  let n = 0;
  for (const r of records) {
    for (const t of topics) {
      const key = t.keyOf(r);
      if (key !== undefined) t.shards[partitionFor(key, partitions)].process(r);
    }
    if (++n % SYNC_EVERY === 0) await sync();
  }
  await sync();
  // as the API holds them: a root cause with the symptoms folded into it, and no folded symptom
  for (const id of alerts.keys()) {
    const stored = await repo.get(id);
    if (stored?.foldedInto !== undefined) alerts.delete(id);
    else if (stored) alerts.set(id, stored);
  }
  return [...alerts.values()].sort((a, b) => a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : 1));
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
      ? await replayPartitioned(
          sim.records,
          plan.detectors,
          shard,
          partitions,
          opts.keyedStreams !== false,
          opts.meshFolding !== false,
        )
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
