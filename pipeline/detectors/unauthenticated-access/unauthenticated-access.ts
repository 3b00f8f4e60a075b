import { ClearingMemo } from '../../core/clearing-memo.js';
import { durationText } from '../../core/duration-text.js';
import type { ApiCallRecord } from '../../core/record.js';
import { CredentialSight, credentialOf } from '../../inventory/call-credential.js';
import type { Detector, DetectorContext, WindowMetrics } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { KeyInterner } from '../shared/key-interner.js';
import { endedBefore, isLive, PendingRefreshes } from '../shared/live-alert.js';
import { actorOf, appendTo, compileGlob, pushEvidence, routeOf } from '../shared/record-fields.js';
import type { UnauthenticatedAccessConfig } from './config.js';

/** what one endpoint's accepted calls carried */
interface EndpointAccess {
  /** it accepted an anonymous call while its service was learning: open by design, never reported */
  open: boolean;
  /** accepted calls with a credential */
  credentialed: number;
  /** anonymous calls accepted since learning ended, and the credentialed calls before the first of them (-1: none) */
  late: number;
  credentialedBefore: number;
  /** event time of the last alert raised, -1 none */
  alertedAt: number;
  /**
   * the anonymous calls its alert counts: since learning, or since its last alert went quiet (no call for the resolve
   * window); the event time of the first and the last of them (-1: none)
   */
  calls: number;
  callsFrom: number;
  callsTo: number;
  /** event time of its alert's last signal (raised or refreshed), -1 none */
  signalledAt: number;
  /** the status of the last of them (0: not known, from an older checkpoint) */
  lastStatus: number;
  /** evidence of those calls; absent until the first (most endpoints never have one) */
  ids?: string[];
  sources?: string[];
}

/** an endpoint entry as a checkpoint holds it; one written before the alert counted its calls lacks those fields */
type StoredEndpointAccess = Omit<EndpointAccess, 'calls' | 'callsFrom' | 'callsTo' | 'signalledAt' | 'lastStatus'> &
  Partial<EndpointAccess>;

/**
 * An entry from a checkpoint. One written before the alert counted its calls: every anonymous call since learning
 * (`late`) is taken as its alert's, the last alert as its last signal.
 */
function restoredAccess(e: StoredEndpointAccess): EndpointAccess {
  if (e.calls !== undefined) return e as EndpointAccess;
  return { ...e, calls: e.late, callsFrom: -1, callsTo: -1, signalledAt: e.alertedAt, lastStatus: 0 };
}

/** a destination service: when first seen, accepted calls with a credential, anonymous ones to its open endpoints */
interface ServiceAccess {
  since: number;
  credentialed: number;
  anonymous: number;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_SOURCES = 16;

/**
 * the share of the service's calls to its endpoints but `e` that carried no credential: its anonymous calls are its
 * open endpoints' (e is not one), so a finding does not lower the requirement
 */
const otherAnonymousShare = (e: EndpointAccess, s: ServiceAccess): number =>
  s.anonymous / Math.max(1, s.credentialed - e.credentialed + s.anonymous);

/**
 * whether an endpoint id (`METHOD /route`) is public: public_routes patterns are globs on the route, or on `METHOD
 * /route` when they have a space
 */
function publicMatcher(patterns: readonly string[]): (endpoint: string) => boolean {
  const onRoute = patterns.filter((p) => !p.includes(' ')).map(compileGlob);
  const onEndpoint = patterns.filter((p) => p.includes(' ')).map(compileGlob);
  return (endpoint) => {
    const route = routeOf(endpoint);
    if (onRoute.some((g) => g.test(route))) return true;
    const method = endpoint.slice(0, endpoint.length - route.length).toUpperCase();
    return onEndpoint.some((g) => g.test(`${method}${route}`));
  };
}

/**
 * An endpoint answering calls that carry no credential where a credential is required (OWASP API2:2023 Broken
 * Authentication; a removed auth middleware, a misrouted ingress, a debug route). Two rules, after a learning period
 * per destination service during which endpoints that answer anonymous calls are learned as open:
 * - `auth_dropped`: an endpoint that accepted at least min_authenticated credentialed calls, and no anonymous one while
 *   learning, accepts min_anonymous anonymous calls;
 * - `open_endpoint`: an endpoint of a service whose other endpoints require a credential (min_authenticated
 *   credentialed calls, at most max_anonymous_share anonymous) accepts min_anonymous anonymous calls.
 * Only accepted calls count (status below 400: a 401 says the door works); public_routes are exempt. Calls of a
 * sensor that has never reported a credential are left out (it may not see them: an access log without the
 * Authorization hash), so a service seen only through such sensors requires nothing and is never reported.
 *
 * The alert counts every anonymous call it stands for: raised at the min_anonymous-th, it is refreshed by the later
 * ones (at most once a second of event time, the rest reported when the service's metrics window closes), so it
 * stays open while they go on and says how many there were, from when to when. Once they stop for the resolve window
 * the alert resolves; the calls after that count towards the endpoint's next alert, raised at min_anonymous of them
 * and no sooner than realert_ms after the previous one was raised.
 */
export class UnauthenticatedAccessDetector implements Detector {
  readonly type = 'unauthenticated_access';
  private readonly services: BoundedMap<string, ServiceAccess>;
  private readonly endpoints: BoundedMap<string, EndpointAccess>;
  private readonly keys = new KeyInterner('\u0000');
  private readonly sight = new CredentialSight();
  /** whether an endpoint id (`METHOD /route`) is public (the globs run once per endpoint, then remembered) */
  private readonly isPublic: ClearingMemo<boolean>;
  /** endpoints (by key) whose live alert has calls it does not report yet: their service, and endpoint id */
  private readonly unreported = new PendingRefreshes<string>();
  private alerts = 0;

  constructor(private readonly config: UnauthenticatedAccessConfig) {
    this.services = new BoundedMap(config.max_services);
    this.endpoints = new BoundedMap(config.max_endpoints);
    this.isPublic = new ClearingMemo(publicMatcher(config.public_routes), config.max_endpoints);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    if (r.status < 100 || r.status >= 400) return;
    const endpoint = ctx.endpointOf(r);
    // a sensor that has never reported a credential may not see them: its calls say nothing either way
    const credential = this.sight.judge(r, credentialOf(r));
    if (credential === undefined) return;
    const credentialed = credential !== 'none';
    // only an anonymous call asks whether its route is public
    if (!credentialed && this.isPublic.get(endpoint)) return;
    const s = this.services.upsert(r.service, r.ts, (ts) => ({ since: ts, credentialed: 0, anonymous: 0 }));
    const key = this.keys.key(r.service, endpoint);
    const e = this.endpoints.upsert(key, r.ts, () => ({
      open: false,
      credentialed: 0,
      late: 0,
      credentialedBefore: -1,
      alertedAt: -1,
      calls: 0,
      callsFrom: -1,
      callsTo: -1,
      signalledAt: -1,
      lastStatus: 0,
    }));
    if (credentialed) {
      e.credentialed++;
      s.credentialed++;
      return;
    }
    if (!e.open && r.ts - s.since < this.config.learning_ms) e.open = true;
    if (e.open) {
      s.anonymous++;
      return;
    }
    if (e.late++ === 0) e.credentialedBefore = e.credentialed;
    if (endedBefore(e.signalledAt, e.callsTo, r.ts, ctx)) {
      // the last alert went quiet: this call opens the count of the next one
      e.calls = 0;
      e.ids = undefined;
      e.sources = undefined;
    }
    if (e.calls++ === 0 || e.callsFrom < 0) e.callsFrom = r.ts;
    e.callsTo = r.ts;
    e.lastStatus = r.status;
    e.ids = pushEvidence(e.ids ?? [], r.id);
    const actor = actorOf(r);
    const from = e.sources ?? [];
    if (actor && from.length < MAX_SOURCES && !from.includes(actor.value)) e.sources = appendTo(from, actor.value);
    if (isLive(e.signalledAt, r.ts, ctx)) {
      // with neither rule holding now there is nothing to signal: a due refresh waits as it was
      if (this.unreported.refresh(key, r.service, endpoint, r.ts, e.signalledAt, this.ruleOf(e, s) !== undefined))
        this.signal(ctx, r.service, endpoint, e, s);
      return;
    }
    if (e.calls < this.config.min_anonymous) return;
    if (e.alertedAt >= 0 && r.ts - e.alertedAt < this.config.realert_ms) return;
    if (!this.signal(ctx, r.service, endpoint, e, s)) return;
    e.alertedAt = r.ts;
    this.alerts++;
  }

  /** a service's window closed: its endpoints' alerts report the calls they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreported.onWindow(w, (key, endpoint) => {
      const e = this.endpoints.peek(key);
      const s = this.services.peek(w.service);
      if (e && s && e.callsTo > e.signalledAt) this.signal(ctx, w.service, endpoint, e, s);
    });
  }

  /**
   * the rule the endpoint's alert stands on now; undefined when neither holds: the endpoint never required a
   * credential, nor does its service
   */
  private ruleOf(e: EndpointAccess, s: ServiceAccess): 'auth_dropped' | 'open_endpoint' | undefined {
    if (e.credentialedBefore >= this.config.min_authenticated) return 'auth_dropped';
    const otherCredentialed = s.credentialed - e.credentialed;
    return otherCredentialed >= this.config.min_authenticated &&
      otherAnonymousShare(e, s) <= this.config.max_anonymous_share
      ? 'open_endpoint'
      : undefined;
  }

  /**
   * raises or refreshes the endpoint's alert with the calls it counts, at the last of them; false (nothing emitted)
   * when neither rule holds: the endpoint never required a credential, nor does its service
   */
  private signal(
    ctx: DetectorContext,
    service: string,
    endpoint: string,
    e: EndpointAccess,
    s: ServiceAccess,
  ): boolean {
    const rule = this.ruleOf(e, s);
    if (rule === undefined) return false;
    const dropped = rule === 'auth_dropped';
    const otherCredentialed = s.credentialed - e.credentialed;
    const otherShare = otherAnonymousShare(e, s);
    e.signalledAt = e.callsTo;
    const method = endpoint.slice(0, endpoint.indexOf(' ')).toUpperCase();
    const span = e.callsTo - e.callsFrom;
    const from = e.sources ?? [];
    ctx.emit({
      kind: 'unauthenticated_access',
      severity: dropped || WRITES.has(method) ? 'high' : 'medium',
      service,
      endpoint,
      at: e.callsTo,
      summary: `${service} ${endpoint} accepted ${e.calls} calls without any credential in ${durationText(span)}`,
      expected: dropped
        ? `a credential on every call, as on its ${e.credentialedBefore} accepted calls before the first anonymous one`
        : `a credential, as ${service}'s other endpoints require (${otherCredentialed} accepted calls, ${(otherShare * 100).toFixed(1)}% anonymous)`,
      observed: `${e.calls} anonymous calls accepted from ${new Date(e.callsFrom).toISOString()} to ${new Date(e.callsTo).toISOString()}${e.lastStatus ? ` (last status ${e.lastStatus})` : ''} from ${from.length}${from.length === MAX_SOURCES ? '+' : ''} sources: ${from.slice(0, 4).join(', ')}`,
      recordIds: [...(e.ids ?? [])],
      metrics: {
        anonymous_calls: e.calls,
        anonymous_span_s: span / 1000,
        credentialed_calls: e.credentialed,
        sources: from.length,
        service_anonymous_share: Number(otherShare.toFixed(4)),
      },
      labels: { endpoint, rule },
    });
    return true;
  }

  snapshot(): unknown {
    return {
      v: 1,
      services: this.services.dump((s) => s),
      endpoints: this.endpoints.dump((e) => e),
      sight: this.sight.dump(),
      alerts: this.alerts,
      unreported: this.unreported.dump(),
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.services.load(s.services as [string, ServiceAccess, number][], (v) => v);
        this.endpoints.load(s.endpoints as [string, StoredEndpointAccess, number][], restoredAccess);
        this.sight.load(s.sight);
        this.alerts = Number(s.alerts) || 0;
        this.unreported.load(s.unreported);
      },
      () => {
        this.services.clear();
        this.endpoints.clear();
        this.sight.load([]);
        this.alerts = 0;
        this.unreported.clear();
      },
    );
  }

  stats(): Record<string, number> {
    return {
      services: this.services.size,
      endpoints: this.endpoints.size,
      endpoints_evicted: this.endpoints.evicted,
      alerts: this.alerts,
    };
  }
}
