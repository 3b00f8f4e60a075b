import type { ApiCallRecord } from '../core/record.js';
import { hash32 } from '../detectors/shared/hash.js';
import { Rng, ulidAt } from '../core/prng.js';
import {
  type CallCtx,
  EDGE_ENDPOINTS,
  type EdgeEndpoint,
  type HopTemplate,
  type ParamValue,
  principalOf,
  REGIONS,
  SERVICES,
} from './topology.js';

/** A simulated user: a stable id, a home region, one or two client addresses, a few orders. */
export interface SimUser {
  idx: number;
  sub: string;
  region: string;
  ips: string[];
  activity: number;
  clientId: string;
  orders: number[];
}

/** A change to normal behaviour over a time range (how metric anomalies are injected). */
export interface Modifier {
  start: number;
  end: number;
  service: string;
  /** `METHOD /route`; absent = every endpoint of the service */
  endpoint?: string;
  /** 5xx probability while active */
  errorRate?: number;
  /** multiplies the hop's own latency */
  latencyFactor?: number;
  /** multiplies the arrival rate of an edge endpoint */
  rateFactor?: number;
}

export interface EdgeCallOptions {
  /** the acting user; null = anonymous */
  user?: SimUser | null;
  /** client address (default: one of the user's) */
  ip?: string;
  /** a token hash other than the user's current one (replayed or shared tokens) */
  tokenHash?: string;
  /** the user id the token names, when it differs from `user` */
  sub?: string;
  region?: string;
  /** runs after the endpoint's own choice of ids and params */
  prepare?: (c: CallCtx) => void;
  /** status of the i-th call of a hop (undefined = the normal draw) */
  statusFor?: (t: HopTemplate, i: number) => number | undefined;
  /** how many times a hop is called (undefined = the normal draw) */
  repeatFor?: (t: HopTemplate, c: CallCtx) => number | undefined;
  /** for logins: the username tried and the outcome */
  login?: { username: string; outcome: 'success' | 'failure' };
  /**
   * draws from this generator instead of the world's: an injector added after the others leaves the base traffic of
   * every seed as it was (the base traffic draws from the world's generator after the injectors)
   */
  rng?: Rng;
}

export interface MeshCallOptions {
  ts: number;
  caller: string;
  callerNs?: string;
  /** SPIFFE id of the caller; null = none presented */
  principal?: string | null;
  mtls?: boolean;
  service: string;
  method: string;
  route: string;
  path: string;
  params?: Record<string, ParamValue>;
  region: string;
  sourceRegion: string;
  status?: number;
  user?: SimUser;
  /** a client outside the mesh reaching the service directly, by address: no caller workload, no certificate */
  client?: string;
}

const SESSION_MS = 45 * 60_000;

export class SimWorld {
  readonly rng: Rng;
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly users: SimUser[];
  readonly edges: EdgeEndpoint[];
  readonly records: ApiCallRecord[] = [];
  readonly modifiers: Modifier[] = [];
  private readonly cumActivity: Float64Array;

  constructor(opts: { seed: number; start: number; end: number; userCount: number; services?: string[] }) {
    this.seed = opts.seed;
    this.rng = new Rng(opts.seed);
    this.start = opts.start;
    this.end = opts.end;
    const keep = opts.services ? new Set(['frontend', ...opts.services]) : undefined;
    this.edges = EDGE_ENDPOINTS.filter((e) => !keep || allServices(e.tree).every((s) => keep.has(s)));
    const urng = new Rng(opts.seed ^ 0x5bd1e995);
    this.users = [];
    let cum = 0;
    this.cumActivity = new Float64Array(opts.userCount);
    for (let i = 0; i < opts.userCount; i++) {
      const region = urng.chance(0.6) ? REGIONS[0] : REGIONS[1];
      const ip = () =>
        region === REGIONS[0]
          ? `81.${urng.int(2, 250)}.${urng.int(0, 255)}.${urng.int(1, 254)}`
          : `23.${urng.int(20, 90)}.${urng.int(0, 255)}.${urng.int(1, 254)}`;
      const ips = urng.chance(0.12) ? [ip(), ip()] : [ip()];
      const orders: number[] = [];
      const n = urng.int(1, 8);
      for (let j = 0; j < n; j++) orders.push(500000 + i * 10 + j);
      const activity = Math.min(4, urng.logNormal(1, 0.5));
      this.users.push({
        idx: i,
        sub: String(100000 + i),
        region,
        ips,
        activity,
        clientId: urng.chance(0.7) ? 'web' : 'ios',
        orders,
      });
      cum += activity;
      this.cumActivity[i] = cum;
    }
  }

  /** a user drawn in proportion to how active they are */
  pickUser(rng: Rng = this.rng): SimUser {
    const x = rng.next() * this.cumActivity[this.cumActivity.length - 1];
    let lo = 0;
    let hi = this.cumActivity.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumActivity[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return this.users[lo];
  }

  /** the hash of the token the user holds at `ts` (sessions last 45 minutes) */
  tokenOf(u: SimUser, ts: number): string {
    return `h1:${this.sessionRng(u, ts).hex(32)}`;
  }

  sessionOf(u: SimUser, ts: number): string {
    const r = this.sessionRng(u, ts);
    r.next();
    return `s-${r.hex(16)}`;
  }

  private sessionRng(u: SimUser, ts: number): Rng {
    const session = Math.floor((ts - this.start + ((u.idx * 7919) % SESSION_MS)) / SESSION_MS);
    return new Rng(hash32(`${this.seed}:${u.idx}:${session}`));
  }

  private modified(service: string, endpoint: string, ts: number): { errorRate?: number; latencyFactor: number } {
    let errorRate: number | undefined;
    let latencyFactor = 1;
    for (const m of this.modifiers) {
      if (ts < m.start || ts >= m.end || m.service !== service || (m.endpoint && m.endpoint !== endpoint)) continue;
      if (m.errorRate !== undefined) errorRate = Math.max(errorRate ?? 0, m.errorRate);
      if (m.latencyFactor !== undefined) latencyFactor *= m.latencyFactor;
    }
    return { errorRate, latencyFactor };
  }

  /** the arrival-rate factor of an edge endpoint at ts */
  rateFactor(endpoint: string, ts: number): number {
    let f = 1;
    for (const m of this.modifiers) {
      if (
        m.rateFactor !== undefined &&
        ts >= m.start &&
        ts < m.end &&
        m.service === 'frontend' &&
        m.endpoint === endpoint
      )
        f *= m.rateFactor;
    }
    return f;
  }

  /** one front-end request and every backend call it causes; returns the front-end record */
  edgeCall(ts: number, edge: EdgeEndpoint, o: EdgeCallOptions = {}): ApiCallRecord {
    const rng = o.rng ?? this.rng;
    const user = o.user === undefined ? (rng.chance(edge.anonymousShare) ? null : this.pickUser(rng)) : o.user;
    const c: CallCtx = { rng, sub: o.sub ?? user?.sub, orders: user?.orders ?? [], ids: {}, params: {} };
    edge.prepare(c);
    o.prepare?.(c);
    const region = o.region ?? user?.region ?? (rng.chance(0.6) ? REGIONS[0] : REGIONS[1]);
    const ip =
      o.ip ??
      (user
        ? rng.pick(user.ips)
        : `${rng.chance(0.5) ? 81 : 23}.${rng.int(2, 250)}.${rng.int(0, 255)}.${rng.int(1, 254)}`);
    let identity: ApiCallRecord['user'];
    if (edge.login) {
      const username = o.login?.username ?? user?.sub ?? String(100000 + rng.int(0, this.users.length - 1));
      const outcome = o.login?.outcome ?? (rng.chance(0.04) ? 'failure' : 'success');
      identity = { sub: username, clientId: 'web', authOutcome: outcome };
    } else if (user) {
      identity = {
        sub: c.sub,
        tokenHash: o.tokenHash ?? this.tokenOf(user, ts),
        sessionId: this.sessionOf(user, ts),
        clientId: user.clientId,
      };
    }
    const traceId = rng.hex(32);
    const loginFailed = identity?.authOutcome === 'failure';
    const statusFor = loginFailed ? (t: HopTemplate, i: number) => o.statusFor?.(t, i) ?? 401 : o.statusFor;
    const out = this.hop(edge.tree, 0, c, ts, { traceId, region, identity, ip, statusFor, repeatFor: o.repeatFor });
    return out.record;
  }

  private hop(
    t: HopTemplate,
    i: number,
    c: CallCtx,
    ts: number,
    call: {
      traceId: string;
      region: string;
      identity: ApiCallRecord['user'];
      ip: string;
      parentSpan?: string;
      caller?: string;
      statusFor?: (t: HopTemplate, i: number) => number | undefined;
      repeatFor?: (t: HopTemplate, c: CallCtx) => number | undefined;
    },
  ): { record: ApiCallRecord; status: number } {
    const rng = c.rng;
    const endpoint = `${t.method} ${t.route}`;
    const mod = this.modified(t.service, endpoint, ts);
    const spanId = rng.hex(16);
    const id = ulidAt(ts, rng);
    const own = rng.logNormal(t.latencyMs, t.sigma) * mod.latencyFactor;
    let elapsed = own * 0.3;
    let childFailed = false;
    const forced = call.statusFor?.(t, i);
    // a request refused before any work (bad input, forbidden, not found) calls nothing downstream
    if (forced === undefined || (forced !== 400 && forced !== 403 && forced !== 404)) {
      for (const child of t.children ?? []) {
        const n = call.repeatFor?.(child, c) ?? child.repeat?.(c) ?? 1;
        for (let k = 0; k < n; k++) {
          const res = this.hop(child, k, c, ts + elapsed + 0.2, { ...call, parentSpan: spanId, caller: t.service });
          elapsed += res.record.durationMs + 0.2;
          if (res.status >= 500) childFailed = true;
        }
      }
    }
    let status = 200;
    if (forced !== undefined) status = forced;
    else if (rng.chance(mod.errorRate ?? t.errorRate)) status = rng.chance(0.7) ? 500 : 503;
    else if (childFailed && rng.chance(0.9)) status = 502;
    else if (t.notFoundRate && rng.chance(t.notFoundRate)) status = 404;
    else if (t.method === 'POST' && t.route.endsWith('/orders')) status = 201;
    const params = t.params?.(c, i);
    const mesh = call.caller !== undefined;
    const identity = call.identity ? { ...call.identity } : undefined;
    if (identity?.authOutcome !== undefined) {
      if (mesh && t.service !== 'auth') delete identity.authOutcome;
      else if (t.service === 'auth') identity.authOutcome = status < 400 ? 'success' : 'failure';
    }
    const record: ApiCallRecord = {
      v: 1,
      id,
      ts: Math.round(ts),
      durationMs: Math.round((own + elapsed) * 100) / 100,
      sensor: mesh
        ? { kind: 'envoy_wasm', id: `${t.service}-${call.region}` }
        : { kind: 'nginx', id: `edge-${call.region}` },
      service: t.service,
      method: t.method,
      host: mesh ? `${t.service}.${SERVICES[t.service].ns}.svc.cluster.local` : 'shop.example.com',
      path: t.path(c, i),
      route: t.route,
      status,
      reqBytes: t.method === 'GET' ? 0 : Math.round(rng.logNormal(300, 0.4)),
      respBytes: status >= 400 ? 120 : Math.round(rng.logNormal(t.respBytes, 0.3)),
      source: mesh
        ? {
            ip: podIp(call.caller!, call.region),
            service: call.caller,
            principal: principalOf(call.caller!),
            mtls: true,
          }
        : { ip: call.ip },
      trace: call.parentSpan
        ? { traceId: call.traceId, spanId, parentSpanId: call.parentSpan }
        : { traceId: call.traceId, spanId },
      region: call.region,
    };
    if (identity) record.user = identity;
    if (params) record.params = params;
    if (mesh) record.tags = { source_region: call.region };
    this.records.push(record);
    return { record, status };
  }

  /** one service-to-service call outside any front-end request (workers, batch jobs, misrouted clients) */
  meshCall(o: MeshCallOptions): ApiCallRecord {
    const rng = this.rng;
    const ns = o.callerNs ?? SERVICES[o.caller]?.ns ?? 'default';
    const principal = o.principal === undefined ? principalOf(o.caller, ns) : o.principal;
    const record: ApiCallRecord = {
      v: 1,
      id: ulidAt(o.ts, rng),
      ts: Math.round(o.ts),
      durationMs: Math.round(rng.logNormal(15, 0.5) * 100) / 100,
      sensor: { kind: 'envoy_wasm', id: `${o.service}-${o.region}` },
      service: o.service,
      method: o.method,
      host: `${o.service}.${SERVICES[o.service]?.ns ?? 'default'}.svc.cluster.local`,
      path: o.path,
      route: o.route,
      status: o.status ?? 200,
      reqBytes: o.method === 'GET' ? 0 : Math.round(rng.logNormal(300, 0.4)),
      respBytes: Math.round(rng.logNormal(900, 0.3)),
      source: o.client
        ? { ip: o.client }
        : { ip: podIp(o.caller, o.sourceRegion), service: o.caller, mtls: o.mtls ?? true },
      trace: { traceId: rng.hex(32), spanId: rng.hex(16) },
      region: o.region,
      tags: { source_region: o.sourceRegion },
    };
    if (principal && !o.client) record.source.principal = principal;
    if (o.params) record.params = o.params;
    if (o.user)
      record.user = { sub: o.user.sub, tokenHash: this.tokenOf(o.user, o.ts), sessionId: this.sessionOf(o.user, o.ts) };
    this.records.push(record);
    return record;
  }
}

function allServices(t: HopTemplate, out: string[] = []): string[] {
  out.push(t.service);
  for (const c of t.children ?? []) allServices(c, out);
  return out;
}

/** a stable pod address for a workload in a region */
export function podIp(service: string, region: string): string {
  const h = hash32(service);
  return `10.${region === REGIONS[0] ? 1 : 2}.${h & 0xff}.${((h >>> 8) % 3) + 10}`;
}

/** an address from a hosting range that no simulated user has (attackers) */
export const attackerIp = (rng: Rng): string => `185.${rng.int(100, 230)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
