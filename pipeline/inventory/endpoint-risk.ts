/**
 * An inventory entry's risk: a score from 0 to 100 (the sum of the points of the factors it has, at most 100), a
 * level (low, medium, high) and the factors with why, largest first, so an analyst starts with the riskiest endpoint
 * (as Akto, Salt and Traceable rank theirs). Pure: the entry and, when the caller read them, its open alerts.
 */
import { SEVERITY_RANK, type Severity } from '../core/alert.js';
import type { ApiEntry } from './api-entry.js';
import { TEMPLATED } from './path-template.js';
import { type SensitiveKind, sensitiveParams } from './sensitive-params.js';

/** The factors and their default points, and the levels' thresholds (`api.inventory_risk` overrides them). */
export const ENDPOINT_RISK = {
  points: {
    /**
     * accepted calls (status below 400) carried no credential (`auth.none > 0`): anyone may call it, or its
     * authentication is broken (OWASP API2)
     */
    unauthenticated: 25,
    /** a parameter name says it carries a credential (`api_key`, `password`): it leaks into logs and Referers */
    sensitive_credential: 20,
    /** a parameter name says it carries a payment datum (`card_number`, `iban`) */
    sensitive_payment: 20,
    /** a parameter name says it carries a personal datum (`email`, `ssn`) */
    sensitive_personal: 15,
    /** deprecated in the catalogue but still called: unmaintained code still answering (OWASP API9) */
    zombie: 20,
    /** called but absent from the catalogue: nobody reviewed or secures it on purpose (OWASP API9) */
    shadow: 15,
    /** seen, not yet judged against a catalogue */
    new: 5,
    /**
     * the route names an object by a path parameter (`{id}`, `{uuid}`, `{param}`, `{userId}`; not `{date}` or
     * `{num}`, values rather than objects): object-level access, where authorisation is most often missing (BOLA,
     * OWASP API1)
     */
    object_ids: 10,
    /** POST, PUT, PATCH or DELETE: it changes state */
    writes: 10,
    /** an open or acknowledged alert of severity high or critical names the endpoint */
    open_alerts_severe: 15,
    /** an open or acknowledged alert of a lower severity names the endpoint (when no severe one does) */
    open_alerts: 5,
  },
  /** a score at or above `high` is high, at or above `medium` medium, else low */
  levels: { high: 60, medium: 30 },
} as const;

export type RiskFactorName = keyof typeof ENDPOINT_RISK.points;
export const RISK_FACTOR_NAMES = Object.keys(ENDPOINT_RISK.points) as RiskFactorName[];
export type RiskLevel = 'low' | 'medium' | 'high';

/** the points and thresholds in force: the table with the configuration's overrides */
export interface RiskModel {
  points: Readonly<Record<RiskFactorName, number>>;
  levels: Readonly<{ high: number; medium: number }>;
}
export const DEFAULT_RISK_MODEL: RiskModel = ENDPOINT_RISK;

export interface RiskFactor {
  factor: RiskFactorName;
  points: number;
  detail: string;
}
export interface EndpointRisk {
  score: number;
  level: RiskLevel;
  factors: RiskFactor[];
}

/** the unresolved alerts naming one endpoint: their kinds, and whether one is high or critical */
export interface EndpointAlerts {
  kinds: string[];
  severe: boolean;
}

/** the key alerts and entries share: service and `METHOD /route` (the correlator names endpoints by inventory route) */
export const endpointKey = (service: string, endpoint: string): string => `${service}\u0000${endpoint}`;

/** the unresolved alerts by the endpoint they name (alerts without one left out); read once, looked up per entry */
export function alertsByEndpoint(
  alerts: readonly { service: string; endpoint?: string; kind: string; severity: Severity }[],
): Map<string, EndpointAlerts> {
  const out = new Map<string, EndpointAlerts>();
  for (const a of alerts) {
    if (!a.endpoint) continue;
    const key = endpointKey(a.service, a.endpoint);
    const found = out.get(key) ?? { kinds: [], severe: false };
    out.set(key, found);
    if (!found.kinds.includes(a.kind)) found.kinds.push(a.kind);
    if (SEVERITY_RANK[a.severity] >= SEVERITY_RANK.high) found.severe = true;
  }
  return out;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** placeholders of values rather than objects */
const NOT_OBJECT_IDS = new Set(['{date}', '{num}']);
const SENSITIVE_FACTOR: Record<SensitiveKind, RiskFactorName> = {
  credential: 'sensitive_credential',
  payment: 'sensitive_payment',
  personal: 'sensitive_personal',
};
const STATE_DETAIL: Partial<Record<ApiEntry['state'], string>> = {
  zombie: 'zombie: deprecated in the catalogue but still called',
  shadow: 'shadow: called but absent from the catalogue',
  new: 'new: not yet judged against a catalogue',
};

/** up to three names, and how many more */
function someNames(names: readonly string[]): string {
  const shown = names.slice(0, 3).join(', ');
  return names.length > 3 ? `${shown} and ${names.length - 3} more` : shown;
}

/** the placeholders of a route that name an object */
function objectIds(route: string): string[] {
  const out: string[] = [];
  for (const seg of route.split('/'))
    if (TEMPLATED.test(seg) && !NOT_OBJECT_IDS.has(seg) && !out.includes(seg)) out.push(seg);
  return out;
}

/** what the entry's factors are, with their details (the points are the model's) */
function factorsOf(entry: ApiEntry, alerts: EndpointAlerts | undefined): [RiskFactorName, string][] {
  const found: [RiskFactorName, string][] = [];
  const a = entry.auth;
  if (a && a.none > 0) {
    const share = Math.round((100 * a.none) / (a.token + a.mtls + a.key + a.none));
    found.push(['unauthenticated', `${share}% of accepted calls carried no credential`]);
  }
  const sensitive = sensitiveParams(entry.params);
  for (const kind of ['credential', 'payment', 'personal'] as const) {
    const names = sensitive[kind];
    if (names) found.push([SENSITIVE_FACTOR[kind], `${kind} parameters: ${someNames(names)}`]);
  }
  const state = STATE_DETAIL[entry.state];
  if (state) found.push([entry.state as RiskFactorName, state]);
  const ids = objectIds(entry.route);
  if (ids.length) found.push(['object_ids', `object ids in the path: ${someNames(ids)}`]);
  if (WRITES.has(entry.method.toUpperCase())) found.push(['writes', `${entry.method.toUpperCase()} changes state`]);
  if (alerts?.kinds.length) {
    const kinds = someNames(alerts.kinds);
    found.push(
      alerts.severe
        ? ['open_alerts_severe', `open alerts, one high or critical: ${kinds}`]
        : ['open_alerts', `open alerts: ${kinds}`],
    );
  }
  return found;
}

/** the level of a score under the model's thresholds */
export const riskLevel = (score: number, model: RiskModel = DEFAULT_RISK_MODEL): RiskLevel =>
  score >= model.levels.high ? 'high' : score >= model.levels.medium ? 'medium' : 'low';

/**
 * An entry's risk under `model`: its factors with their points (a factor given 0 points is left out), largest first
 * (ties in the table's order), their sum capped at 100, and its level. `alerts`: the unresolved alerts naming the
 * endpoint, when the caller read them (alertsByEndpoint); without them the open-alert factors are not weighed.
 */
export function endpointRisk(
  entry: ApiEntry,
  model: RiskModel = DEFAULT_RISK_MODEL,
  alerts?: EndpointAlerts,
): EndpointRisk {
  const factors: RiskFactor[] = [];
  for (const [factor, detail] of factorsOf(entry, alerts)) {
    const points = model.points[factor];
    if (points > 0) factors.push({ factor, points, detail });
  }
  factors.sort((x, y) => y.points - x.points);
  const score = Math.min(
    100,
    factors.reduce((sum, f) => sum + f.points, 0),
  );
  return { score, level: riskLevel(score, model), factors };
}
