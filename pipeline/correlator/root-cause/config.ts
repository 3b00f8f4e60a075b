import { type Static, Type } from '@sinclair/typebox';
import { checkSection } from '../../config/section.js';
import { ALERT_KINDS } from '../../core/alert-kinds.js';
import { mwError } from '../../core/errors.js';

/** where a folded kind's symptoms show */
export type SymptomDirection = 'callers' | 'callees';
/** a generic kind's entry in subjects_fold_into: the more specific kinds its signals fold into, or `none` */
const FoldInto = Type.Union([Type.Array(Type.String(), { minItems: 1 }), Type.Literal('none')]);
/** a kind's entry in symptoms_at: where its symptoms show, or `none` (not folded) */
const SymptomsAt = Type.Union([Type.Literal('callers'), Type.Literal('callees'), Type.Literal('none')]);

export const RootCauseConfigSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'fold symptoms (dependants, the service around an endpoint) into the alert of their root cause',
    }),
    symptoms_at: Type.Record(Type.String(), SymptomsAt, {
      default: {
        latency_spike: 'callers',
        error_burst: 'callers',
        traffic_spike: 'callees',
        traffic_drop: 'callees',
      },
      description:
        'signal kinds that are folded, and where their symptoms show: at callers (a slow or failing hop makes its callers slow or fail) or at callees (a change of traffic at a front end reaches its backends). Merged over the defaults: a default kind left out is still folded; `none` leaves a kind unfolded',
    }),
    subjects_fold_into: Type.Record(Type.String(), FoldInto, {
      default: {
        excessive_calls: ['enumeration', 'credential_stuffing', 'brute_force', 'fan_out'],
        bulk_data_access: ['enumeration', 'fan_out', 'bulk_data_access'],
      },
      description:
        "generic signal kinds (how much a subject takes) and the more specific kinds (what kind of taking it is) they fold into: a generic signal whose subject has a live alert of one of these kinds, at the same service and endpoint or (across_services) at a caller of its endpoint along the call graph, is recorded on that alert instead of raising its own. A kind may name itself (the same subject's export seen again at a backend it passes through). Merged over the defaults: a default kind left out is still folded; `none` leaves a kind unfolded",
    }),
    subject_hold_seconds: Type.Integer({
      minimum: 0,
      maximum: 600,
      default: 30,
      description:
        'a generic signal with no specific alert of its subject to fold into waits this long (event time: until a record this much later) for one to be raised before it raises its own: the detectors cross their thresholds seconds apart (up to 11 s in the scenario evaluation)',
    }),
    across_services: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      default: 'auto',
      description:
        "also fold symptoms at other services along the call graph (a slow hop's callers, a flooded front end's backends). Needs the services of the call graph in one shard: a one-partition correlator, or a replay of the whole mesh. With several partitions (keyed by service) a shard sees only its own services, and its alerts would no longer equal a replay's. auto (the default): on for the embedded bus with one partition (its default), off otherwise; the service around an endpoint is always folded",
    }),
    fold_within_seconds: Type.Integer({
      minimum: 0,
      maximum: 3600,
      default: 300,
      description: 'a symptom joins a root cause that signalled at most this long before it',
    }),
    max_edges: Type.Integer({
      minimum: 1,
      default: 5000,
      description: 'caller → callee edges of the call graph kept (least recently seen dropped first)',
    }),
    trace_sample: Type.Integer({
      minimum: 1,
      default: 8,
      description:
        'the call graph is learnt from about one trace in this many (the graph is stable; this keeps it cheap)',
    }),
    max_roots: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'recent root causes remembered for later symptoms to join',
    }),
  },
  { additionalProperties: false },
);

export type RootCauseConfig = Static<typeof RootCauseConfigSchema>;

/** defaults filled in, validated; throws CONFIG_INVALID naming the key */
export function parseRootCauseConfig(input: unknown = {}): RootCauseConfig {
  const config = checkSection(RootCauseConfigSchema, input, 'correlator.root_cause');
  checkKinds(config);
  return config;
}

/** every kind named in subjects_fold_into is an alert kind (a misspelt one would fold nothing, silently) */
function checkKinds(config: RootCauseConfig): void {
  const problems: string[] = [];
  for (const [generic, into] of Object.entries(config.subjects_fold_into)) {
    const where = `correlator.root_cause.subjects_fold_into.${generic}`;
    if (!(generic in ALERT_KINDS)) problems.push(`${where}: ${generic} is not an alert kind`);
    if (into === 'none') continue;
    for (const kind of into)
      if (!(kind in ALERT_KINDS))
        problems.push(`${where}: ${kind} is not an alert kind (see pipeline/core/alert-kinds.ts)`);
  }
  if (problems.length > 0) throw mwError('CONFIG_INVALID', problems.join('; '), { problems });
}

/**
 * `across_services: auto` decided for a correlator: on when one shard sees every service (the embedded bus with one
 * partition), off otherwise (a shard sees only its partition's services; a Kafka topic is taken to have several)
 */
export function resolveAcrossServices(
  config: RootCauseConfig,
  bus: { kind: 'memory' | 'kafka'; partitions: number },
): RootCauseConfig {
  if (config.across_services !== 'auto') return config;
  return { ...config, across_services: bus.kind === 'memory' && bus.partitions === 1 };
}
