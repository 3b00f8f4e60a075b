import { type Static, Type } from '@sinclair/typebox';
import { checkSection } from '../../config/section.js';

/** where a folded kind's symptoms show */
export type SymptomDirection = 'callers' | 'callees';
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
  return checkSection(RootCauseConfigSchema, input, 'correlator.root_cause');
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
