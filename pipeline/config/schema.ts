import { type Static, Type } from '@sinclair/typebox';
import { RootCauseConfigSchema } from '../correlator/root-cause/config.js';
import { KafkaBusConfigSchema } from '../bus/kafka-config.js';
import { Severity } from '../core/alert.js';
import { boundedKeyRecord } from '../core/bounded-key-record.js';
import { EndpointRiskConfigSchema } from '../inventory/endpoint-risk-config.js';
import { SharedSecret } from './shared-secret.js';

/** `api.sensor_quiet_after_minutes` by default; also when it is 0, for the admin API's `quiet` */
export const SENSOR_QUIET_AFTER_MINUTES_DEFAULT = 15;

const Listen = Type.String({ pattern: '^[^:]+:\\d{1,5}$', description: 'host:port to listen on' });

export const BusConfig = Type.Object(
  {
    kind: Type.Union([Type.Literal('memory'), Type.Literal('kafka')], {
      default: 'memory',
      description: 'memory (embedded) or kafka',
    }),
    kafka: Type.Optional(KafkaBusConfigSchema),
    partitions: Type.Integer({
      minimum: 1,
      maximum: 1024,
      default: 1,
      description:
        'in-process bus partitions per topic; one process runs their shards one after the other, so more buy no speed. With one, the correlator sees every service and folds root causes across services (correlator.root_cause.across_services: auto)',
    }),
    max_backlog_per_partition: Type.Integer({
      minimum: 100,
      default: 200_000,
      description: 'in-process bus: uncommitted messages per partition before 429',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const StoreConfig = Type.Object(
  {
    kind: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
    url: Type.Optional(Type.String({ description: 'redis://host:port/db' })),
  },
  { additionalProperties: false, default: {} },
);

export const SensorTokenConfig = Type.Object(
  { id: Type.String({ minLength: 1 }), token: SharedSecret() },
  { additionalProperties: false },
);

export const CollectorConfig = Type.Object(
  {
    listen: Type.String({ ...Listen, default: '127.0.0.1:7071' }),
    body_limit_bytes: Type.Integer({ minimum: 1024, default: 5 * 1024 * 1024 }),
    max_records_per_request: Type.Integer({ minimum: 1, default: 10_000 }),
    max_future_skew_seconds: Type.Integer({ minimum: 0, default: 600 }),
    request_timeout_seconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 60,
      description:
        "how long a request may take to arrive, body included, before it is refused (408 MW_ERR_REQUEST_TIMEOUT) and its connection closed: a client that sends its body a byte at a time cannot hold a connection open for ever. Long enough for a sensor's largest batch (body_limit_bytes) over its slowest link",
    }),
    sensor_tokens: Type.Array(SensorTokenConfig, {
      default: [],
      description: 'inline sensor tokens (prefer the file)',
    }),
    sensor_tokens_file: Type.Optional(Type.String({ description: 'file of "<sensor-id> <token>" lines' })),
  },
  { additionalProperties: false, default: {} },
);

export const ApiKeyConfig = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    key: SharedSecret(),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('responder'), Type.Literal('admin')]),
  },
  { additionalProperties: false },
);

export const RetentionConfig = Type.Object(
  {
    resolved_alert_days: Type.Number({
      exclusiveMinimum: 0,
      default: 30,
      description: 'a resolved alert is deleted, with its notes, this many days after it was last seen or changed',
    }),
    alert_days: Type.Number({
      exclusiveMinimum: 0,
      default: 180,
      description: 'any alert, whatever its state, this many days after it was last seen or changed',
    }),
    max_alerts: Type.Integer({
      minimum: 100,
      default: 100_000,
      description: 'past this many stored alerts the least recently seen are deleted, whatever their state',
    }),
    access_log_entries: Type.Integer({
      minimum: 100,
      default: 100_000,
      description: 'the access log (GET /v1/access-log) keeps about this many newest events',
    }),
  },
  { additionalProperties: false, default: {} },
);

export const ApiConfig = Type.Object(
  {
    listen: Type.String({ ...Listen, default: '127.0.0.1:7070' }),
    retention: RetentionConfig,
    api_keys: Type.Array(ApiKeyConfig, { default: [] }),
    api_keys_file: Type.Optional(Type.String({ description: 'file of "<name> <role> <key>" lines' })),
    request_timeout_seconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description:
        "how long a request may take to arrive, body included, before it is refused (408 MW_ERR_REQUEST_TIMEOUT) and its connection closed: a client that sends its body a byte at a time cannot hold a connection open for ever. The actions role's decisions API has the same bound",
    }),
    sensor_quiet_after_minutes: Type.Integer({
      minimum: 0,
      maximum: 10_080,
      default: SENSOR_QUIET_AFTER_MINUTES_DEFAULT,
      description:
        'a sensor that sent no record for longer than this raises a sensor_quiet alert (looked for every minute), resolved once it sends again; also when GET /v1/admin/sensors and the console call a sensor quiet. 0: no alert, and those open are resolved (the admin API then says quiet after the default 15). Raised above the silence of an alert open: that alert is resolved, and another raised once the silence passes the new threshold',
    }),
    // keys: a sensor kind, 1 to 64 characters as SensorRef.kind in a record
    sensor_quiet_by_kind: Type.Optional(
      boundedKeyRecord({ minLength: 1, maxLength: 64 }, Type.Integer({ minimum: 0, maximum: 10_080 }), {
        description:
          'minutes per sensor kind (as records carry it: envoy_wasm, nginx, idp, bus, …), each 0 to 10080, overriding sensor_quiet_after_minutes for the sensors of that kind (idp: 240 for login events that stop at night); 0: no alert for that kind, and those open are resolved (the admin API then says quiet after the default threshold); raised, as for sensor_quiet_after_minutes',
      }),
    ),
    sensor_quiet_severity: Type.Union(Severity.anyOf, {
      default: 'medium',
      description: 'the severity of sensor_quiet alerts',
    }),
    trust_proxy: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "behind a reverse proxy or ingress: the proxies' addresses or CIDRs, comma-separated (uniquelocal: the private ranges, as a cluster's ingress has); a request from one of them has its client address from X-Forwarded-For, so failed-login throttling and the access log are per client, not per proxy",
      }),
    ),
    inventory_risk: Type.Optional(EndpointRiskConfigSchema),
    oidc: Type.Optional(
      Type.Object(
        {
          issuer: Type.String(),
          audience: Type.String(),
          jwks_url: Type.Optional(Type.String()),
          roles_claim: Type.String({ default: 'meshward_roles' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, default: {} },
);

export const CorrelatorConfig = Type.Object(
  {
    window_seconds: Type.Integer({ minimum: 1, maximum: 3600, default: 60 }),
    lateness_seconds: Type.Integer({ minimum: 0, maximum: 600, default: 5 }),
    idle_after_seconds: Type.Integer({
      minimum: 0,
      maximum: 86_400,
      default: 60,
      description:
        'idle watermark: a partition that has received no record for this long (wall clock), and that the bus reports read to its end, has its event time moved on with the wall clock, held back by this much, so its windows close (a service that went dark gets traffic_drop), held signals raise and quiet alerts resolve without waiting for a record. A record up to this late still counts. 0 = off: event time moves with records alone, as in `meshward replay`',
    }),
    endpoint_series: Type.Boolean({ default: true }),
    max_series_per_partition: Type.Integer({ minimum: 10, default: 50_000 }),
    resolve_after_minutes: Type.Number({ minimum: 0.1, default: 10 }),
    checkpoint_interval_ms: Type.Integer({ minimum: 100, default: 5000 }),
    group_id: Type.String({ default: 'meshward-correlator' }),
    keyed_streams: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      default: 'auto',
      description:
        "records are partitioned by service, so with several partitions a trace's calls (fan_out) and a token's uses (token_mismatch) are spread over shards. On: the collector also writes each record with a trace id to meshward.calls.by-trace keyed by it, and each with a token hash to meshward.calls.by-token keyed by that, and the correlator runs fan_out and token_mismatch there only (consumer groups <group_id>.trace and <group_id>.token), so each sees a trace or a token whole. auto (the default): on for Kafka and for an embedded bus of several partitions, off for the embedded bus with one (one shard sees everything). A detector turned off has no stream",
    }),
    /** where the correlator serves /healthz and /metrics (Prometheus); absent = no listener */
    listen: Type.Optional(Type.String({ ...Listen, description: 'host:port for /healthz and /metrics' })),
    /** folding of symptoms into their root cause's alert (pipeline/correlator/root-cause); absent = the defaults */
    root_cause: Type.Optional(RootCauseConfigSchema),
  },
  { additionalProperties: false, default: {} },
);

export const MeshwardConfig = Type.Object(
  {
    data_dir: Type.String({ default: '.data', description: 'embedded mode: where alerts and state survive restarts' }),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    bus: BusConfig,
    store: StoreConfig,
    collector: CollectorConfig,
    api: ApiConfig,
    correlator: CorrelatorConfig,
    /** detector type → its config (validated by the detector's own schema); every detector runs unless `enabled: false` */
    detectors: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** sink name (`type` or `type/name`) → its config */
    sinks: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** receivers beyond the collector's HTTP endpoint (syslog, kong_http_log, otlp_traces, idp, bus) */
    receivers: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** policy actions: `policy_file`, guardrails, and adapters (`idp/…`, `gateways/…`) */
    actions: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type MeshwardConfig = Static<typeof MeshwardConfig>;
