import type { TSchema } from '@sinclair/typebox';
import type { AlertSignal } from '../core/alert.js';
import type { ApiCallRecord } from '../core/record.js';
import type { Store } from '../store/store.js';

/** One closed time window of RED metrics for a service (endpoint undefined) or one of its endpoints. */
export interface WindowMetrics {
  service: string;
  /** `METHOD /route/template`, absent for the service-level series */
  endpoint?: string;
  /** window start, epoch ms (event time) */
  start: number;
  widthMs: number;
  count: number;
  errors: number;
  /** count / widthMs in requests per second */
  rate: number;
  errorRatio: number;
  p50: number;
  p95: number;
  p99: number;
  /** ids of a few records in the window (evidence) */
  sampleIds: string[];
}

export interface DetectorContext {
  /**
   * raise or refresh an alert; the alert manager deduplicates by (kind, service, endpoint, subject), and by the `rule`
   * label too for custom_rule
   */
  emit(signal: AlertSignal): void;
  /** the endpoint identity of a record: `METHOD /route/template` */
  endpointOf(record: ApiCallRecord): string;
  /**
   * an open alert not signalled again for this long (event time) is resolved: a detector whose finding still holds
   * (a shadow API still called) signals again within it to keep its alert open. Absent: nothing resolves alerts
   * (tests, scenario replays), and such a finding is signalled once
   */
  readonly resolveAfterMs?: number;
}

/** the counter a feedback hash's writers bump after each change, so readers fetch the hash only when it changed */
export const feedbackVersionKey = (feedbackKey: string): string => `${feedbackKey}:version`;

/** a document a detector keeps for analysts: stored as field `id` of hash `doc:<collection>` */
export interface DetectorDocument {
  collection: string;
  id: string;
  value: unknown;
  /** the document is to be deleted (what it described is gone: an endpoint merged into another, or evicted) */
  deleted?: true;
}

/**
 * Where the shards of every correlator meet: the store they share. A correlator whose bus has several partitions (keyed
 * by service) gives it to its shards' detectors, so that a count whose groups span services (a user, an address) is
 * counted across partitions rather than per partition (Detector.joinMesh, syncMesh)
 */
export interface MeshScope {
  store: Store;
  /** the shard's partition: its share of a shared count is written under this name, so a replay rewrites it */
  partition: number;
  /** the correlator group: its shared counts' keys start with it */
  group: string;
}

/**
 * A detector. One instance per shard (a bus partition): its state holds only that shard's services, so it can be
 * checkpointed and handed over when the partition moves. Hot-path methods are synchronous.
 */
export interface Detector {
  readonly type: string;
  /** per accepted record */
  observe?(record: ApiCallRecord, ctx: DetectorContext): void;
  /** per closed metrics window (service-level and endpoint-level series) */
  onWindow?(window: WindowMetrics, ctx: DetectorContext): void;
  /** JSON-serialisable state for checkpoints */
  snapshot(): unknown;
  restore(state: unknown): void;
  /**
   * documents for the analysts' API (e.g. the API inventory) that changed since the last call; the correlator
   * writes them to the store when it checkpoints
   */
  documents?(): DetectorDocument[];
  /**
   * analysts' feedback this detector learns from: the store hash it is kept in (e.g. inventory reviews). The
   * correlator reads it when it takes up a partition (before its first record: after a restart or a move) and at each
   * checkpoint when it changed, and hands every entry to onFeedback.
   */
  readonly feedbackKey?: string;
  onFeedback?(id: string, value: unknown): void;
  /**
   * at each checkpoint, off the hot path, before feedback and documents: take up what changed outside the records
   * (api_discovery: catalogue files changed on disk)
   */
  refresh?(): void;
  /**
   * the correlator's bus has several partitions: this shard's detector is told where the shards meet, before its
   * state is restored and before its first record (custom_rules counts groups that span services there)
   */
  joinMesh?(scope: MeshScope): void;
  /**
   * off the record path, after a batch (at most once a second) and on the correlator's idle tick: write this shard's
   * share of the shared counts and signal what their totals reached. Throws when the store fails; what was not written
   * stays to be written the next time
   */
  syncMesh?(ctx: DetectorContext): Promise<void>;
  /** gauges for /metrics, e.g. tracked subjects */
  stats?(): Record<string, number>;
  /**
   * the route template this detector knows for a record (api_discovery: the catalogue's, `/keys/{keyName}` for
   * `/keys/alice`), or null; the correlator's endpointOf asks it before templating the path by value shape
   */
  routeOf?(record: ApiCallRecord): string | null;
}

/**
 * A detector type. `C` is its config as the schema validates it, `P` what create() receives: the config itself, or
 * what prepare() compiled from it.
 */
export interface DetectorFactory<C = unknown, P = C> {
  /** lower_snake_case type id used in config */
  readonly type: string;
  /** TypeBox schema of the config (snake_case keys) */
  readonly configSchema: TSchema;
  readonly defaultConfig: C;
  /**
   * work done once when the config loads, before any shard exists: cross-field checks and compiled expressions
   * (custom_rules' CEL). Fails fast: throws CONFIG_INVALID naming the key, so `meshward check` and every role's start
   * refuse the file. What it returns is shared by every shard's detector (keep it immutable). Absent: create()
   * receives the config
   */
  prepare?(config: C, options?: PrepareOptions): P;
  create(config: P): Detector;
}

/** how a config is prepared: for a process that runs the detectors, or only to check the config */
export interface PrepareOptions {
  /**
   * false: the files a config names (custom_rules' list files) are not read, only the rest checked: a collector or an
   * API process checks the detectors' config but does not run them, and need not have their files mounted
   */
  readFiles?: boolean;
}
