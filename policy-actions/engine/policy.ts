import { readFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Alert, SEVERITY_RANK, type Severity } from '../../pipeline/core/alert.js';
import { OPT_IN_ALERT_KINDS, unknownNames } from '../../pipeline/core/alert-kinds.js';
import { DecisionScope, DecisionType } from '../../pipeline/core/decision.js';
import { schemaProblems } from '../../pipeline/config/schema-problems.js';
import { ERRORS, MeshwardError, mwError } from '../../pipeline/core/errors.js';
import { parseYamlBounded } from '../../pipeline/core/yaml.js';
import { parseDuration } from './duration.js';

const Duration = Type.Union([Type.String({ minLength: 2 }), Type.Number({ exclusiveMinimum: 0 })], {
  description: 'a duration: 30s, 15m, 1h, 7d, or milliseconds',
});
const Strings = Type.Array(Type.String({ minLength: 1 }));

const Match = Type.Object(
  {
    /** alert kinds this rule applies to (any when absent, but for the opt-in kinds such as sensor_quiet) */
    kinds: Type.Optional(Strings),
    /** the lowest alert severity this rule applies to */
    min_severity: Type.Optional(Type.Union(['info', 'low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s)))),
    /** services this rule applies to (any when absent) */
    services: Type.Optional(Strings),
    /** alert subject types this rule applies to (user, token, ip, principal, session, service, endpoint, api, sensor) */
    subject_types: Type.Optional(Strings),
    /**
     * alert labels (API cluster labels, a detector's `rule`, …): every key must match one of the listed values; a
     * comma-separated label value matches when any of its items is listed
     */
    labels: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Strings]))),
  },
  { additionalProperties: false },
);

const Escalation = Type.Object(
  {
    /** applies when at least this many prior decisions exist for the same subject within the window */
    after: Type.Integer({ minimum: 1 }),
    type: Type.Optional(DecisionType),
    scope: Type.Optional(DecisionScope),
    ttl: Type.Optional(Duration),
    acr: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const Action = Type.Object(
  {
    type: DecisionType,
    /** what to act on; derived from the alert subject type when absent */
    scope: Type.Optional(DecisionScope),
    /** how long the decision lasts */
    ttl: Duration,
    /** for step_up: the acr value required */
    acr: Type.Optional(Type.String({ minLength: 1 })),
    /** restrict to one route: `alert` takes the alert's endpoint, anything else is a literal `METHOD /route` */
    route: Type.Optional(Type.String({ minLength: 1 })),
    /** adapter config keys to use (e.g. idp/oauth_revocation); every adapter that supports the decision when absent */
    adapters: Type.Optional(Strings),
  },
  { additionalProperties: false },
);

export const PolicyRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' }),
    description: Type.Optional(Type.String()),
    match: Match,
    action: Action,
    /** decide and audit, but never call an adapter (decision.simulated = true) */
    dry_run: Type.Optional(Type.Boolean({ default: false })),
    /** hold the decision as pending_approval until an analyst approves it */
    requires_approval: Type.Optional(Type.Boolean({ default: false })),
    /** repeat offenders: the last step whose `after` is reached overrides the action */
    escalate: Type.Optional(Type.Array(Escalation)),
    /** how far back prior decisions count for escalation (default: the policy's escalation_window) */
    escalation_window: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export const GuardrailsSchema = Type.Object(
  {
    allowlist: Type.Optional(
      Type.Object(
        {
          users: Type.Optional(Strings),
          principals: Type.Optional(Strings),
          ips: Type.Optional(Strings),
          cidrs: Type.Optional(Strings),
          services: Type.Optional(Strings),
        },
        { additionalProperties: false },
      ),
    ),
    /** circuit breaker: at most this many enforced decisions per minute; past it new decisions are held as pending */
    max_actions_per_minute: Type.Optional(Type.Integer({ minimum: 1, default: 60 })),
  },
  { additionalProperties: false },
);

export const PolicySchema = Type.Object(
  {
    version: Type.Optional(Type.Literal(1)),
    /** guardrails no rule can override */
    guardrails: Type.Optional(GuardrailsSchema),
    /** default window for escalation counting */
    escalation_window: Type.Optional(Duration),
    rules: Type.Array(PolicyRuleSchema),
  },
  { additionalProperties: false, $id: 'https://meshward.dev/schemas/policy-v1.json', title: 'Policy' },
);
export type PolicyDocument = Static<typeof PolicySchema>;
export type PolicyRuleDocument = Static<typeof PolicyRuleSchema>;

/** which scopes each decision type can act on */
const FITS: Record<DecisionType, ReadonlySet<DecisionScope>> = {
  revoke_token: new Set(['token', 'session', 'user']),
  revoke_session: new Set(['session', 'user']),
  step_up: new Set(['user', 'session', 'token']),
  deny: new Set(['user', 'session', 'token', 'ip', 'principal', 'service', 'route']),
  rate_limit: new Set(['user', 'session', 'token', 'ip', 'principal', 'service', 'route']),
};

export const scopeFits = (type: DecisionType, scope: DecisionScope): boolean => FITS[type].has(scope);

export interface CompiledEscalation {
  after: number;
  type?: DecisionType;
  scope?: DecisionScope;
  ttlMs?: number;
  acr?: string;
}

export interface CompiledRule {
  name: string;
  matches(alert: Alert): boolean;
  type: DecisionType;
  scope?: DecisionScope;
  ttlMs: number;
  acr?: string;
  route?: string;
  adapters?: string[];
  dryRun: boolean;
  requiresApproval: boolean;
  /** ascending by `after` */
  escalate: CompiledEscalation[];
  escalationWindowMs: number;
}

export interface CompiledPolicy {
  rules: CompiledRule[];
  /** true when the guardrail allowlist covers this scope/value */
  allowlisted(scope: string, value: string): boolean;
  maxActionsPerMinute: number;
}

/** Validate and compile a policy document; errors name the offending key (MW_ERR_POLICY_INVALID). */
export function compilePolicy(doc: unknown): CompiledPolicy {
  if (!Value.Check(PolicySchema, doc)) {
    throw mwError('POLICY_INVALID', schemaProblems(PolicySchema, doc, '', 1)[0] ?? '(root): invalid');
  }
  const policy = doc as PolicyDocument;
  const defaultWindow = policy.escalation_window
    ? parseDuration(policy.escalation_window, 'escalation_window')
    : 86_400_000;
  const names = new Set<string>();
  const rules = policy.rules.map((r, i) => {
    const at = `rules.${i}`;
    if (names.has(r.name)) throw mwError('POLICY_INVALID', `${at}.name: duplicate rule name "${r.name}"`);
    names.add(r.name);
    const kinds = unknownNames('kind', r.match.kinds ?? []);
    if (kinds) throw mwError('POLICY_INVALID', `${at}.match.kinds: ${kinds}`);
    const subjects = unknownNames('subject type', r.match.subject_types ?? []);
    if (subjects) throw mwError('POLICY_INVALID', `${at}.match.subject_types: ${subjects}`);
    if (r.action.type === 'step_up' && !r.action.acr) {
      throw mwError('POLICY_INVALID', `${at}.action.acr: step_up needs the acr value to require`);
    }
    if (r.action.scope && !scopeFits(r.action.type, r.action.scope)) {
      throw mwError('POLICY_INVALID', `${at}.action.scope: ${r.action.type} cannot act on scope ${r.action.scope}`);
    }
    for (const [j, e] of (r.escalate ?? []).entries()) {
      const type = e.type ?? r.action.type;
      const scope = e.scope ?? r.action.scope;
      if (scope && !scopeFits(type, scope)) {
        throw mwError('POLICY_INVALID', `${at}.escalate.${j}: ${type} cannot act on scope ${scope}`);
      }
    }
    const escalate = (r.escalate ?? [])
      .map((e, j) => ({
        after: e.after,
        type: e.type,
        scope: e.scope,
        acr: e.acr,
        ttlMs: e.ttl === undefined ? undefined : parseDuration(e.ttl, `${at}.escalate.${j}.ttl`),
      }))
      .sort((a, b) => a.after - b.after);
    return {
      name: r.name,
      matches: compileMatch(r.match),
      type: r.action.type,
      scope: r.action.scope,
      ttlMs: parseDuration(r.action.ttl, `${at}.action.ttl`),
      acr: r.action.acr,
      route: r.action.route,
      adapters: r.action.adapters,
      dryRun: r.dry_run ?? false,
      requiresApproval: r.requires_approval ?? false,
      escalate,
      escalationWindowMs: r.escalation_window
        ? parseDuration(r.escalation_window, `${at}.escalation_window`)
        : defaultWindow,
    } satisfies CompiledRule;
  });
  return {
    rules,
    allowlisted: compileAllowlist(policy.guardrails?.allowlist ?? {}),
    maxActionsPerMinute: policy.guardrails?.max_actions_per_minute ?? 60,
  };
}

function compileMatch(m: Static<typeof Match>): (alert: Alert) => boolean {
  const kinds = m.kinds ? new Set(m.kinds) : undefined;
  const services = m.services ? new Set(m.services) : undefined;
  const subjectTypes = m.subject_types ? new Set(m.subject_types) : undefined;
  const minRank = m.min_severity ? SEVERITY_RANK[m.min_severity as Severity] : 0;
  const labels = Object.entries(m.labels ?? {}).map(
    ([k, v]) => [k, new Set(Array.isArray(v) ? v : [v])] as [string, Set<string>],
  );
  return (alert) => {
    // a rule for any kind leaves out those about meshward's own coverage: it acts on them only when it names them
    if (kinds ? !kinds.has(alert.kind) && !foldedKindIn(alert, kinds) : OPT_IN_ALERT_KINDS.has(alert.kind))
      return false;
    if (SEVERITY_RANK[alert.severity] < minRank) return false;
    if (services && !services.has(alert.service)) return false;
    if (subjectTypes && (!alert.subject || !subjectTypes.has(alert.subject.type))) return false;
    for (const [k, allowed] of labels) {
      const v = alert.labels?.[k];
      if (v === undefined || !labelMatches(v, allowed)) return false;
    }
    return true;
  };
}

/**
 * whether a signal of one of the kinds was folded into the alert (`labels.also`: a subject's excessive_calls folded
 * into its enumeration alert), so a rule for that kind still acts on the subject it names
 */
function foldedKindIn(alert: Alert, kinds: ReadonlySet<string>): boolean {
  return alert.labels?.also?.split(',').some((k) => kinds.has(k)) === true;
}

/**
 * whether an alert label's value is allowed: the value itself, or, for a list (`kinds: credential,personal`; `rule:
 * documented,open_endpoint` when two rules fired into one alert), any of its comma-separated items
 */
function labelMatches(value: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.has(value)) return true;
  if (!value.includes(',')) return false;
  return value.split(',').some((item) => allowed.has(item.trim()));
}

function compileAllowlist(a: NonNullable<Static<typeof GuardrailsSchema>['allowlist']>) {
  const users = new Set(a.users ?? []);
  const principals = new Set(a.principals ?? []);
  const services = new Set(a.services ?? []);
  const blocks = new BlockList();
  for (const [i, ip] of (a.ips ?? []).entries()) {
    const family = isIP(ip);
    if (!family) throw mwError('POLICY_INVALID', `guardrails.allowlist.ips.${i}: "${ip}" is not an IP address`);
    blocks.addAddress(ip, family === 6 ? 'ipv6' : 'ipv4');
  }
  for (const [i, cidr] of (a.cidrs ?? []).entries()) {
    // strict `address/bits`: Number() would read "10.0.0.0/" as /0 (allow everything) and "/0x8" as /8
    const m = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr);
    const net = m?.[1] ?? '';
    const family = isIP(net);
    const prefix = Number(m?.[2]);
    if (!m || !family || prefix > (family === 6 ? 128 : 32)) {
      throw mwError('POLICY_INVALID', `guardrails.allowlist.cidrs.${i}: "${cidr}" is not a CIDR block`);
    }
    blocks.addSubnet(net, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return (scope: string, value: string): boolean => {
    switch (scope) {
      case 'user':
        return users.has(value);
      case 'principal':
        return principals.has(value);
      case 'service':
        return services.has(value);
      case 'ip': {
        const family = isIP(value);
        return family !== 0 && blocks.check(value, family === 6 ? 'ipv6' : 'ipv4');
      }
      default:
        return false;
    }
  };
}

/** Parse YAML text into a compiled policy. */
export function parsePolicy(yamlText: string): CompiledPolicy {
  let doc: unknown;
  try {
    doc = parseYamlBounded(yamlText);
  } catch (err) {
    throw mwError('POLICY_INVALID', `not valid YAML: ${(err as Error).message}`);
  }
  return compilePolicy(doc);
}

/**
 * Read and compile a policy file. Every refusal is MW_ERR_POLICY_INVALID naming the file (`/etc/meshward/policy.yaml:
 * rules.0.action.ttl: …`), a file that cannot be read too. `adapters`: the adapter keys configured beside it, which
 * a rule's `action.adapters` must name (a misspelt key would leave the rule's decisions enforced nowhere).
 */
export async function loadPolicyFile(path: string, adapters?: readonly string[]): Promise<CompiledPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw mwError('POLICY_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const policy = parsePolicy(text);
    if (adapters) checkRuleAdapters(policy, adapters);
    return policy;
  } catch (err) {
    if (!(err instanceof MeshwardError)) throw err;
    const detail = err.message.replace(`${ERRORS.POLICY_INVALID.message}: `, '');
    throw mwError('POLICY_INVALID', `${path}: ${detail}`);
  }
}

/** refuses a rule whose `action.adapters` names an adapter key that is not configured */
export function checkRuleAdapters(policy: CompiledPolicy, adapters: readonly string[]): void {
  for (const [i, rule] of policy.rules.entries()) {
    const unknown = (rule.adapters ?? []).filter((a) => !adapters.includes(a));
    if (unknown.length > 0) {
      throw mwError(
        'POLICY_INVALID',
        `rules.${i}.action.adapters: ${unknown.join(', ')} not configured under actions (configured: ${adapters.join(', ') || 'none'})`,
      );
    }
  }
}
