import { Type } from '@sinclair/typebox';

/**
 * The one catalogue of alert kinds: what each means, for analysts and for anyone writing a policy or a silence. A
 * policy rule's `match.kinds` and a silence's `kind` must name one of them (a misspelt kind would match nothing,
 * silently). Detectors emit only these (eval/scenarios checks every kind it produces is here).
 */
export const ALERT_KINDS = {
  error_burst: 'the error ratio of a service or endpoint rose far above its baseline',
  latency_spike: 'the latency of a service or endpoint rose far above its baseline',
  traffic_drop: 'the request rate of a service or endpoint fell far below its baseline',
  traffic_spike: 'the request rate of a service or endpoint rose far above its baseline',
  enumeration: 'one caller walked many object ids of one endpoint (broken object-level authorisation probing)',
  bulk_data_access:
    "one caller took far more response data from one endpoint within a window than the endpoint's callers usually do (excessive data exposure, bulk export, scraping)",
  excessive_calls:
    "one caller made far more calls to one endpoint within a window than the endpoint's callers usually do (unrestricted resource consumption)",
  credential_stuffing: 'failed logins for many accounts from one source',
  brute_force: 'many failed logins for one account within a window',
  token_mismatch:
    'a token used for another user than its own, presented for several users, or used from many client addresses',
  param_anomaly:
    "a parameter never seen or a value outside the endpoint's learnt profile (type, range, length, characters), or an injection-shaped value",
  new_caller: 'a workload called an endpoint it never called before, after the endpoint learnt its callers',
  plaintext_hop: 'a call between services without TLS',
  fan_out: 'one request caused far more backend calls than the endpoint usually does (across its trace)',
  data_locality: 'a call moved a configured data class out of the regions its residency rule allows',
  unauthenticated_access: 'an endpoint that requires a signed-in caller answered calls that carried no credential',
  shadow_api: 'an endpoint answering calls that no catalogue entry describes',
  zombie_api: 'a catalogue entry marked deprecated is still called',
  undocumented_param: 'a catalogued endpoint called with a parameter its catalogue entry does not define',
  sensitive_query_param: 'a credential, personal or payment datum sent in a query string',
  custom_rule:
    'a detection the operators wrote in CEL (detectors.custom_rules) matched its threshold of calls within its window: the `rule` label names it',
  guardrail_tripped: "the policy engine's actions-per-minute cap held new decisions for approval",
  action_failed: 'an enforcement adapter could not apply or revert a decision',
  sensor_quiet:
    'a sensor that had been sending records sent none for longer than its quiet threshold: its traffic is no longer watched',
} as const;

export type AlertKind = keyof typeof ALERT_KINDS;

/** an alert kind in an API query or body: a misspelt one is a 400 naming the kinds, not an empty answer */
export const AlertKindSchema = Type.Union(
  Object.keys(ALERT_KINDS).map((k) => Type.Literal(k)),
  { description: 'an alert kind (GET /v1/alert-kinds)' },
);

/** what an alert is about (`subject.type`); a policy's `subject_types` must name these */
export const SUBJECT_TYPES = [
  'user',
  'token',
  'ip',
  'principal',
  'session',
  'service',
  'endpoint',
  'api',
  /** `<kind>/<id>` of a sensor (sensor_quiet); no decision acts on one */
  'sensor',
] as const;

/**
 * kinds whose alerts are one per rule as well as per (service, endpoint, subject): each custom rule is its own
 * finding, so two rules matching the same user keep two alerts (the `rule` label is part of the alert's identity)
 */
export const KINDS_KEYED_BY_RULE: ReadonlySet<string> = new Set<AlertKind>(['custom_rule']);

/** the `service` of alerts about meshward itself (the policy engine's, sensor_quiet): no traffic of its own */
export const MESHWARD_SERVICE = 'meshward';

/**
 * kinds about meshward's own coverage rather than the traffic: a policy rule acts on them only when its `match.kinds`
 * names them, so a rule written for any kind does not act on a sensor that went quiet
 */
export const OPT_IN_ALERT_KINDS: ReadonlySet<string> = new Set<AlertKind>(['sensor_quiet']);

/**
 * the problem with a list of alert kinds or subject types a policy or a silence names, or undefined when each is known:
 * `unknown alert kind enumaration (known: error_burst, …)`
 */
export function unknownNames(what: 'kind' | 'subject type', names: readonly string[]): string | undefined {
  const known: readonly string[] = what === 'kind' ? Object.keys(ALERT_KINDS) : SUBJECT_TYPES;
  const bad = names.filter((n) => !known.includes(n));
  if (bad.length === 0) return undefined;
  return `unknown ${what === 'kind' ? 'alert kind' : 'subject type'}${bad.length > 1 ? 's' : ''} ${bad.join(', ')} (known: ${known.join(', ')})`;
}
