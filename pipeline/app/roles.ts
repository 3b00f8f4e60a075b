import type { FastifyInstance } from 'fastify';
import { AlertRepository } from '../alerts/alert-repository.js';
import { alertRetentionOf, startAlertRetention } from '../alerts/alert-retention.js';
import { SilenceRepository, silenceNote } from '../alerts/silences.js';
import { storeAccessLog } from '../api/access-guard.js';
import { accessLogRoutes } from '../api/access-log-routes.js';
import { adminRoutes } from '../api/admin-routes.js';
import { followDecisionChanges } from '../api/decision-changes.js';
import { alertRoutes } from '../api/alert-routes.js';
import { silenceRoutes } from '../api/silence-routes.js';
import { createApiServer } from '../api/api-server.js';
import { consoleRoutes } from '../api/console-routes.js';
import { inventoryRoutes, settledByReview } from '../api/inventory-routes.js';
import type { CatalogEntry } from '../inventory/catalog/catalog-entry.js';
import { catalogFilesVersion, loadCatalogFiles } from '../inventory/catalog/load.js';
import { riskModelOf } from '../inventory/endpoint-risk-config.js';
import { schemaRoutes } from '../api/schema-routes.js';
import { ApiAuthenticator, type ApiKey, readApiKeysFile } from '../api/auth.js';
import { serviceRoutes } from '../api/service-routes.js';
import { alertMessage, TOPICS, type Bus, type Subscription } from '../bus/bus.js';
import { createCollectorServer } from '../collector/collector-server.js';
import { createRecordIngest } from '../collector/record-ingest.js';
import { readSensorTokensFile, SensorAuth } from '../collector/sensor-auth.js';
import { SensorActivity } from '../collector/sensor-activity.js';
import { startSensorQuietWatch } from '../collector/sensor-quiet-watch.js';
import { quietAfterMsByKindOf } from '../collector/sensor-quiet-threshold.js';
import type { MeshwardConfig } from '../config/schema.js';
import { Correlator } from '../correlator/correlator.js';
import { shardOptionsOf } from '../correlator/shard-options.js';
import { type KeyedStream, keyedStreamsOf, partitionedBus } from '../bus/keyed-streams.js';
import { type MeshFolder, meshFolderOf } from '../alerts/mesh-folder.js';
import { KafkaBus } from '../bus/kafka-bus.js';
import { loadEvidence } from '../correlator/evidence-keeper.js';
import type { Alert } from '../core/alert.js';
import { mwError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { counter } from '../core/metrics.js';
import { createProbeServer } from '../core/probe-routes.js';
import { type CompiledDetectors, compileDetectors } from '../detectors/registry.js';
import { compileSinks, runSink } from '../sinks/sink-runner.js';
import type { Store } from '../store/store.js';
import { startActions } from './actions.js';
import { type ReceiverEntry, startReceivers } from './receivers.js';
import { AnalystDirectory, analystRoutes } from '../api/analyst-directory.js';

export interface RoleDeps {
  config: MeshwardConfig;
  bus: Bus;
  store: Store;
  logger: Logger;
  /**
   * the `receivers:` entries as checked at start (checkSections), with what the check compiled: the collector starts
   * them as they are, so a bus mapping file is read once; absent, the collector checks `config.receivers` itself
   */
  receivers?: readonly ReceiverEntry[];
  /** the detectors as the check compiled them (their files read once); absent, the correlator compiles them itself */
  detectors?: CompiledDetectors;
}

export interface RunningRole {
  name: string;
  url?: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i), port: Number(listen.slice(i + 1)) };
}

async function listen(app: FastifyInstance, where: string): Promise<string> {
  const { host, port } = parseListen(where);
  return app.listen({ host, port });
}

/** the sensor tokens of the config: inline and from the file */
function sensorTokensOf(config: MeshwardConfig) {
  const tokens = [...config.collector.sensor_tokens];
  if (config.collector.sensor_tokens_file) tokens.push(...readSensorTokensFile(config.collector.sensor_tokens_file));
  return tokens;
}

/** the collector's sensor tokens: at least one (a collector nobody can post to is a configuration mistake) */
export function collectorSensorTokens(config: MeshwardConfig) {
  const tokens = sensorTokensOf(config);
  if (tokens.length === 0) {
    throw mwError(
      'CONFIG_INVALID',
      'collector.sensor_tokens: at least one sensor token is needed (sensor_tokens or sensor_tokens_file)',
    );
  }
  return tokens;
}

/**
 * the catalogue files api_discovery matches traffic against, loaded for the analyst API when first asked for (the
 * coverage route) and again when they changed on disk; a failed load is tried again next time. undefined: no
 * catalogue configured
 */
function catalogOf(config: MeshwardConfig): (() => Promise<readonly CatalogEntry[]>) | undefined {
  const files = (config.detectors?.api_discovery as { catalog_files?: unknown } | undefined)?.catalog_files;
  if (!Array.isArray(files) || files.length === 0) return undefined;
  let loaded: { version: string; entries: Promise<readonly CatalogEntry[]> } | undefined;
  return () => {
    const version = catalogFilesVersion(files as string[]);
    if (loaded?.version !== version) {
      const entries = loadCatalogFiles(files as string[]);
      loaded = { version, entries };
      entries.catch(() => {
        if (loaded?.entries === entries) loaded = undefined;
      });
    }
    return loaded.entries;
  };
}

/** the collector: HTTP ingest (and the receivers the config enables) publishing to the bus */
export async function runCollector({ config, bus, store, logger, receivers: checked }: RoleDeps): Promise<RunningRole> {
  const tokens = collectorSensorTokens(config);
  const activity = new SensorActivity({ store, logger });
  const ingest = createRecordIngest({
    bus,
    logger,
    maxFutureSkewMs: config.collector.max_future_skew_seconds * 1000,
    activity,
    streams: keyedStreamsOf(config),
  });
  const app = createCollectorServer({
    ingest,
    auth: new SensorAuth(tokens),
    logger,
    bodyLimit: config.collector.body_limit_bytes,
    maxRecordsPerRequest: config.collector.max_records_per_request,
    requestTimeoutMs: config.collector.request_timeout_seconds * 1000,
    busHealthy: () => bus.healthy(),
  });
  const receivers = await startReceivers(checked ?? config.receivers, { app, ingest, logger });
  const url = await listen(app, config.collector.listen);
  logger.info({ url, receivers: receivers.describe }, 'collector listening');
  void warnOfMissingStreams(bus, keyedStreamsOf(config), logger);
  return {
    name: 'collector',
    url,
    close: async () => {
      await receivers.close();
      await app.close();
      await activity.close();
    },
  };
}

/**
 * The keyed streams' topics missing from Kafka, said once at start: a broker that creates topics on first use serves
 * them (with its default partitions), one that does not refuses every batch with such records (the collector answers
 * 503 and the sensors retry). An upgrade from a version without them needs them created (deploy's topic job) or
 * correlator.keyed_streams: false. Best effort: a bus that cannot answer says nothing here
 */
async function warnOfMissingStreams(bus: Bus, streams: readonly KeyedStream[], logger: Logger): Promise<void> {
  if (!(bus instanceof KafkaBus) || streams.length === 0) return;
  try {
    const existing = new Set(await (await bus.getAdmin()).listTopics());
    const missing = streams.map((s) => s.topic).filter((t) => !existing.has(t));
    if (missing.length > 0)
      logger.warn(
        { missing },
        'keyed stream topics missing from Kafka: create them as the calls topic (deploy/compose/kafka-topics.sh, deploy/k8s/kafka-topics-job.yaml) unless the brokers create topics on first use, or set correlator.keyed_streams: false',
      );
  } catch {
    // the bus's own health and logs say when Kafka cannot be reached
  }
}

/** `/healthz` (200 or 503 with the parts) and `/metrics` for a role without an API of its own, on `where` */
async function probeServer(server: string, where: string, logger: Logger, health: () => Record<string, boolean>) {
  const app = createProbeServer(server, logger, health);
  return { app, url: await listen(app, where) };
}

/** the correlator: a member of the correlator consumer group */
export async function runCorrelator({
  config,
  bus,
  store,
  logger,
  detectors: checked,
}: RoleDeps): Promise<RunningRole & { correlator: Correlator }> {
  const detectors = checked ?? compileDetectors(config.detectors);
  const c = config.correlator;
  const shard = shardOptionsOf(config);
  const streams = keyedStreamsOf(config);
  const onStreams = new Set(streams.map((s) => s.detector));
  const common = {
    bus,
    store,
    logger,
    checkpointIntervalMs: c.checkpoint_interval_ms,
    idleAfterMs: c.idle_after_seconds * 1000,
    shard,
  };
  const correlator = new Correlator({
    ...common,
    // a detector with a keyed stream runs there, not here
    createDetectors: () => detectors.create((type) => !onStreams.has(type)),
    groupId: c.group_id,
    meshCounts: partitionedBus(config.bus),
  });
  // each keyed stream: its own consumer group, its one detector; the calls topic's correlator writes the RED windows
  const streamCorrelators = streams.map(
    (s) =>
      new Correlator({
        ...common,
        createDetectors: () => detectors.create((type) => type === s.detector),
        groupId: `${c.group_id}.${s.name}`,
        topic: s.topic,
        writeWindows: false,
        // its windows are not stored: the service series its detector reads (fan_out's refresh) and no more
        shard: { ...shard, endpointSeries: false, publishCallGraph: false },
        // what its partitions count of one alert, one alert says (fan_out: a front end's traces are on all of them)
        meshCounts: true,
      }),
  );
  await correlator.start();
  // the keyed streams' groups join after the calls group, in the background: a join may wait out a rebalance (after
  // a crash, the dead member's session), and the calls topic's detection need not wait for theirs
  const streamsStarting = startInBackground(streamCorrelators, streams, logger);
  logger.info(
    {
      detectors: detectors.types,
      bus: bus.kind,
      root_cause_across_services: shard.rootCause.across_services,
      keyed_streams: streams.map((s) => `${s.detector} on ${s.topic}`),
    },
    'correlator started',
  );
  const probe = c.listen
    ? await probeServer('correlator', c.listen, logger, () => ({
        bus: bus.healthy(),
        store: store.healthy(),
        // false (503) until every keyed stream's group has joined: their detectors are not running before
        ...(streams.length > 0 ? { keyed_streams: streamsStarting.started() } : {}),
      }))
    : undefined;
  if (probe) logger.info({ url: probe.url }, 'correlator health and metrics listening');
  return {
    name: 'correlator',
    url: probe?.url,
    correlator,
    close: async () => {
      await probe?.app.close();
      await correlator.close();
      // a stream still starting is closed by its starter once it has
      streamsStarting.stop();
      for (const sc of streamCorrelators) await sc.close();
    },
  };
}

/**
 * Starts each keyed stream's correlator, one after the other, each again after a failed start (the bus's own retries
 * spent: a long Kafka outage) until it runs or `stop` is called; says when each runs. Never throws: the calls
 * topic's correlator runs meanwhile. One that finishes starting after `stop` is closed here
 */
function startInBackground(
  correlators: readonly Correlator[],
  streams: readonly KeyedStream[],
  logger: Logger,
): { stop(): void; started(): boolean } {
  let stopping = false;
  let running = 0;
  void (async () => {
    for (let i = 0; i < correlators.length && !stopping; i++) {
      for (let attempt = 1; !stopping; attempt++) {
        try {
          await correlators[i].start();
          if (stopping) {
            // its partitions' next owner replays from their last checkpoints when this one cannot write its own
            await correlators[i].close().catch(() => {});
            return;
          }
          logger.info({ topic: streams[i].topic, detector: streams[i].detector }, 'keyed stream started');
          running++;
          break;
        } catch (err) {
          logger.error(
            { topic: streams[i].topic, attempt, err: (err as Error).message },
            'keyed stream could not start; trying again in 5 s',
          );
          await new Promise((r) => setTimeout(r, 5_000).unref());
        }
      }
    }
  })();
  return {
    stop() {
      stopping = true;
    },
    started: () => running === correlators.length,
  };
}

const alertsStored = counter('meshward_api_alert_changes_total', 'alert changes stored for analysts');
const badAlerts = counter('meshward_api_bad_alert_messages_total', 'alert-topic messages that were not alerts');
const foldFailures = counter(
  'meshward_api_alert_fold_failures_total',
  'alerts not offered to root-cause folding across partitions because the store failed (they stay unfolded)',
);
const silencedAlerts = counter('meshward_api_silenced_alert_changes_total', 'alert changes an active silence resolved');
const suppressionsUnrecorded = counter(
  'meshward_silence_suppressions_unrecorded_total',
  "alert changes a silence suppressed that the store did not count (the silence's count stays short by them)",
);

export interface FollowAlertsOptions {
  /** the consumer group (default meshward-api) */
  groupId?: string;
  /**
   * the alerts whose condition an analyst has settled (a reviewed endpoint's shadow API alert), which a refresh the
   * correlator sent before it knew does not reopen
   */
  settled?: (alert: Alert) => Promise<boolean>;
  /**
   * analysts' silences: a matching alert is stored resolved, with a note naming the silence the first time, and
   * counted as suppressed by that silence (in the store: the API replicas share this consumer group)
   */
  silences?: SilenceRepository;
  /** root-cause folding across partitions: each alert stored open is offered to it (meshFolderOf) */
  folder?: MeshFolder;
}

/** keeps the analysts' alert store in step with the alerts topic (a consumer group of its own) */
export async function followAlerts(
  bus: Bus,
  alerts: AlertRepository,
  { groupId = 'meshward-api', settled, silences, folder }: FollowAlertsOptions = {},
): Promise<Subscription> {
  return bus.subscribe({
    groupId,
    topics: [TOPICS.alerts],
    fromBeginning: true,
    onBatch: async (batch) => {
      // the silences in force, read once for the batch
      const silenceOf = silences ? await silences.matcher() : undefined;
      /** per silence, the alert changes it suppressed in this batch: counted in the store once the batch is stored */
      const suppressed = new Map<string, number>();
      for (const m of batch.messages) {
        let alert: Alert;
        try {
          alert = JSON.parse(m.value.toString('utf8')) as Alert;
        } catch {
          badAlerts.inc();
          continue;
        }
        if (typeof alert?.id !== 'string') {
          badAlerts.inc();
          continue;
        }
        // only a refresh that would open the alert is checked against silences and settled findings
        const live = alert.state !== 'resolved';
        const silence = live ? silenceOf?.(alert) : undefined;
        if (silence) {
          silencedAlerts.inc();
          suppressed.set(silence.id, (suppressed.get(silence.id) ?? 0) + 1);
          await alerts.upsert(alert, {
            resolveWith: { ts: Date.now(), actor: silence.createdBy, action: 'resolve', comment: silenceNote(silence) },
          });
        } else {
          const stored = await alerts.upsert(alert, { keepResolved: live && settled ? await settled(alert) : false });
          await folder?.consider(stored).catch(() => foldFailures.inc());
        }
        alertsStored.inc();
      }
      if (silences && suppressed.size > 0)
        await silences.recordSuppressed(suppressed).catch(() => {
          for (const n of suppressed.values()) suppressionsUnrecorded.inc(n);
        });
    },
  });
}

export interface ApiRoleExtras {
  /** more route plugins */
  plugins?: ((app: FastifyInstance) => Promise<void> | void)[];
  /** run the policy engine here when the config has an `actions:` section (default true) */
  actions?: boolean;
  /** a collector runs in this process too (`meshward start`): sensor silence is counted from this start at the earliest */
  collectorHere?: boolean;
}

/** the API's authenticator: its API keys (inline and from the file) and OIDC; refuses a config with neither */
export function authenticatorOf(config: MeshwardConfig): ApiAuthenticator {
  const keys: ApiKey[] = [...config.api.api_keys];
  if (config.api.api_keys_file) keys.push(...readApiKeysFile(config.api.api_keys_file));
  if (keys.length === 0 && !config.api.oidc) {
    throw mwError('CONFIG_INVALID', 'api.api_keys: configure API keys (api_keys or api_keys_file) or api.oidc');
  }
  const o = config.api.oidc;
  return new ApiAuthenticator(
    keys,
    o ? { issuer: o.issuer, audience: o.audience, jwksUrl: o.jwks_url, rolesClaim: o.roles_claim } : undefined,
  );
}

/** the analyst API (and console), fed by the alerts topic */
export async function runApi(
  deps: RoleDeps,
  extras: ApiRoleExtras = {},
): Promise<RunningRole & { alerts: AlertRepository }> {
  const { config, bus, store, logger } = deps;
  const auth = authenticatorOf(config);
  const sinks = compileSinks(config.sinks);
  const alerts = new AlertRepository(store);
  await alerts.buildIndexes();
  const actions = extras.actions === false ? undefined : await startActions(deps);
  const silences = new SilenceRepository(store);
  const folder = meshFolderOf(config, store, alerts);
  const sub = await followAlerts(bus, alerts, { settled: settledByReview(store), silences, folder });
  const stopFollowing = await alerts.follow();
  // every decision change, whichever process's engine made it: the console's live stream
  const decisionChanges = await followDecisionChanges(store);
  const stopRetention = startAlertRetention(alerts, alertRetentionOf(config.api.retention), logger);
  const quietAfterMsByKind = quietAfterMsByKindOf(config.api.sensor_quiet_by_kind ?? {});
  const stopSensorWatch = startSensorQuietWatch({
    store,
    publish: (alert) => bus.publish(TOPICS.alerts, [alertMessage(alert)]),
    logger,
    quietAfterMs: config.api.sensor_quiet_after_minutes * 60_000,
    quietAfterMsByKind,
    severity: config.api.sensor_quiet_severity,
    ...(extras.collectorHere ? { watchedSince: Date.now() } : {}),
  });
  const sinkSubs: Subscription[] = [];
  const silenced = async () => {
    const silenceOf = await silences.matcher();
    return (a: Alert) => silenceOf(a) !== undefined;
  };
  const folded = folder ? (a: Alert) => folder.isFolded(a) : undefined;
  for (const s of sinks) sinkSubs.push(await runSink(bus, logger, s, { skip: silenced, folded, store }));
  let sensorIds: string[] | undefined;
  const analysts = new AnalystDirectory(store, () => auth.keyPrincipals());
  const app = await createApiServer({
    auth,
    logger,
    trustProxy: config.api.trust_proxy,
    requestTimeoutMs: config.api.request_timeout_seconds * 1000,
    audit: storeAccessLog(store, config.api.retention.access_log_entries),
    health: () => ({ bus: bus.healthy(), store: store.healthy() }),
    onAuthenticated: (p) => analysts.seen(p),
    plugins: [
      alertRoutes({ alerts, evidence: (ids) => loadEvidence(store, ids), decisions: decisionChanges }),
      analystRoutes(analysts),
      silenceRoutes(silences, alerts),
      serviceRoutes(store),
      inventoryRoutes(store, { catalog: catalogOf(config), alerts, risk: riskModelOf(config.api.inventory_risk) }),
      accessLogRoutes(store),
      adminRoutes({
        // read at the first request, then kept: the collector, too, reads the token file once, at start
        sensorIds: () => (sensorIds ??= sensorTokensOf(config).map((t) => t.id)),
        store,
        quietAfterMs: config.api.sensor_quiet_after_minutes * 60_000,
        quietAfterMsByKind,
        policy: actions
          ? { engine: actions.engine, file: actions.policyFile, adapterKeys: actions.adapterKeys }
          : undefined,
      }),
      schemaRoutes(),
      ...(actions ? [actions.routes] : []),
      ...(extras.plugins ?? []),
      consoleRoutes(),
    ],
  });
  const url = await listen(app, config.api.listen);
  // folding across partitions: whether this API folds symptoms into root causes that shards saw apart
  logger.info({ url, fold_across_partitions: folder !== undefined }, 'analyst API listening');
  return {
    name: 'api',
    url,
    alerts,
    close: async () => {
      await app.close();
      await sub.close();
      await stopFollowing();
      await decisionChanges.close();
      await stopRetention();
      await stopSensorWatch();
      for (const s of sinkSubs) await s.close();
      await actions?.close();
    },
  };
}

/** the policy engine on its own: alerts in, decisions out, the decisions API on `actions.listen` */
export async function runActions(deps: RoleDeps): Promise<RunningRole> {
  const { config, bus, store, logger } = deps;
  if (!config.actions) throw mwError('CONFIG_INVALID', '/actions: the actions role needs an actions section');
  const auth = authenticatorOf(config);
  const actions = await startActions(deps);
  if (!actions) throw mwError('CONFIG_INVALID', '/actions: the actions role needs an actions section');
  const app = await createApiServer({
    auth,
    logger,
    trustProxy: config.api.trust_proxy,
    requestTimeoutMs: config.api.request_timeout_seconds * 1000,
    audit: storeAccessLog(store, config.api.retention.access_log_entries),
    health: () => ({ bus: bus.healthy(), store: store.healthy() }),
    plugins: [actions.routes],
  });
  const url = await listen(app, actions.listen);
  logger.info({ url }, 'decisions API listening');
  return {
    name: 'actions',
    url,
    close: async () => {
      await app.close();
      await actions.close();
    },
  };
}
