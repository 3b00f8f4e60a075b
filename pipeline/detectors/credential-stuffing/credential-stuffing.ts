import { durationText } from '../../core/duration-text.js';
import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext, MeshScope, WindowMetrics } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import {
  addDistinct,
  countDistinct,
  type DistinctSet,
  type DistinctSetJson,
  distinctFromJson,
  distinctToJson,
  emptyDistinct,
} from '../shared/distinct-set.js';
import { isLive, PendingRefreshes } from '../shared/live-alert.js';
import { appendTo, isMeshHop, pushEvidence } from '../shared/record-fields.js';
import { RouteShapes } from '../shared/route-shapes.js';
import type { CredentialStuffingConfig } from './config.js';
import { type SharedAttack, SharedAttackCounts } from './shared-attack-counts.js';

/** an address's or a user's window of window_ms from its first attempt (failure) */
interface AttackWindow<A extends AttackAlert> {
  start: number;
  failures: number;
  /** it raised an alert, or belongs to an attack whose alert is live: it raises none */
  alerted: boolean;
  evidence: string[];
  /** the attack's alert while it is live: raised in this window or an earlier one, carried on as windows roll */
  alert: A | undefined;
}

/** one source address's login attempts */
interface IpWindow extends AttackWindow<StuffingAlert> {
  attempts: number;
  /** the users failing, up to one past the threshold */
  users: string[];
}

/** one target user's failed logins */
interface UserWindow extends AttackWindow<BruteForceAlert> {
  ips: string[];
}

/**
 * What an alert stands for: the failures (and, for stuffing, every attempt) from the start of the window that raised
 * it, on through the windows after while it is live, to the last failure
 */
interface AttackAlert {
  service: string;
  endpoint: string;
  from: number;
  to: number;
  signalledAt: number;
  failures: number;
  evidence: string[];
}

/** credential stuffing from one address: the distinct users failing (exact up to 64, then estimated) */
interface StuffingAlert extends AttackAlert, DistinctSet {
  attempts: number;
}
type StuffingAlertJson = Omit<StuffingAlert, 'hll' | 'hashes'> & DistinctSetJson;

/** brute force against one user: the addresses failing, up to MAX_IPS */
interface BruteForceAlert extends AttackAlert {
  ips: string[];
}

function stuffingToJson(a: StuffingAlert): StuffingAlertJson {
  const { hashes: _, ...rest } = a;
  return { ...rest, ...distinctToJson(a) };
}

/** what an address's attack (credential stuffing) and a user's (brute force) differ by */
interface AttackKind<W extends AttackWindow<A>, A extends AttackAlert> {
  /** the addresses (users) whose live alert counted failures it does not report yet */
  readonly unreported: PendingRefreshes<string>;
  /** whether the window crossed the threshold (the distinct users failing from the address, the user's failures) */
  crossed(w: W): boolean;
  /** the alert the window raises, from what every attack's alert counts */
  alertOf(w: W, attack: AttackAlert): A;
  /**
   * counts an attempt into the live alert besides its failure (`other`: the user, or the address, it names); false
   * when it does not carry the attack on (a success)
   */
  count(a: A, other: string | undefined, failed: boolean): boolean;
  signal(key: string, a: A, ctx: DetectorContext): void;
}

type IpWindowJson = Omit<IpWindow, 'alert'> & { alert?: StuffingAlertJson };
type UserWindowJson = Omit<UserWindow, 'alert'> & { alert?: BruteForceAlert };

const MAX_IPS = 32;
/** users a stuffing alert counts exactly before it estimates */
const EXACT_USERS = 64;

/**
 * Authentication failures (401/403 on a login route, or `user.authOutcome = failure`, e.g. from an IdP) counted
 * per source address — many distinct users failing from one address is credential stuffing — and per target user —
 * many failures against one account is brute force. Windows run on event time.
 *
 * Each alert counts the whole attack: raised when a window crosses its threshold, it is refreshed by the later
 * failures (at most once a second of event time, the rest when the service's metrics window closes) through the windows
 * after, which raise none of their own, so it stays open while the attack goes on and says how many, from when to when.
 * Once the failures stop for the resolve window the alert resolves, and the address's (user's) next window starts
 * afresh.
 *
 * With several partitions (joinMesh) an address failing at the login endpoints of several services, and a user
 * attacked at several, are also counted across them (shared-attack-counts.ts): one alert when the partitions'
 * distinct users (failures) together reach the threshold and no partition's alone do.
 */
export class CredentialStuffingDetector implements Detector {
  readonly type = 'credential_stuffing';
  private readonly ips: BoundedMap<string, IpWindow>;
  private readonly users: BoundedMap<string, UserWindow>;
  private readonly loginRoutes: Set<string>;
  private readonly routes = new RouteShapes();
  /** addresses, and users, whose live alert counted failures it does not report yet */
  private readonly unreportedIps = new PendingRefreshes<string>();
  private readonly unreportedUsers = new PendingRefreshes<string>();
  private readonly stuffing: AttackKind<IpWindow, StuffingAlert> = {
    unreported: this.unreportedIps,
    crossed: (w) => w.users.length >= this.config.stuffing_distinct_users,
    alertOf: (w, attack) => {
      const users = emptyDistinct();
      for (const u of w.users) addDistinct(users, u, EXACT_USERS);
      return { ...attack, ...users, attempts: w.attempts };
    },
    count: (a, sub, failed) => {
      a.attempts++;
      // a success is counted, but only a failure carries the attack on (refreshes the alert, keeps it open)
      if (!failed) return false;
      if (sub) addDistinct(a, sub, EXACT_USERS, false);
      return true;
    },
    signal: (ip, a, ctx) => this.signalStuffing(ip, a, ctx),
  };
  private readonly bruteForce: AttackKind<UserWindow, BruteForceAlert> = {
    unreported: this.unreportedUsers,
    crossed: (u) => u.failures >= this.config.brute_force_failures,
    alertOf: (u, attack) => ({ ...attack, ips: [...u.ips] }),
    count: (a, ip) => {
      if (ip && a.ips.length < MAX_IPS && !a.ips.includes(ip)) a.ips = appendTo(a.ips, ip);
      return true;
    },
    signal: (sub, a, ctx) => this.signalBruteForce(sub, a, ctx),
  };
  private failures = 0;
  /** joinMesh: addresses' distinct failing users, and users' failures, counted across partitions */
  private mesh?: { stuffing: SharedAttackCounts; bruteForce: SharedAttackCounts };

  constructor(private readonly config: CredentialStuffingConfig) {
    this.ips = new BoundedMap(config.max_ips, config.window_ms * 2);
    this.users = new BoundedMap(config.max_users, config.window_ms * 2);
    this.loginRoutes = new Set(config.login_routes);
  }

  observe(r: ApiCallRecord, ctx: DetectorContext): void {
    const outcome = r.user?.authOutcome;
    if (outcome === 'none') return;
    if (!this.config.include_mesh_hops && isMeshHop(r)) return;
    let failed = outcome === 'failure';
    let attempt = outcome !== undefined;
    if (!attempt) {
      if (!this.loginRoutes.has(this.routes.of(ctx.endpointOf(r)).route)) return;
      attempt = true;
      failed = r.status === 401 || r.status === 403;
    }
    const ip = r.source.ip;
    const sub = r.user?.sub;
    if (ip) this.fromAddress(ip, sub, failed, r, ctx);
    if (failed) this.failures++;
    if (failed && sub) this.againstUser(sub, ip, r, ctx);
  }

  /** an attempt from an address: counted in its window, and into its live alert */
  private fromAddress(ip: string, sub: string | undefined, failed: boolean, r: ApiCallRecord, ctx: DetectorContext) {
    const w = this.ipWindow(ip, r.ts, ctx);
    w.attempts++;
    if (failed) {
      w.failures++;
      if (sub && w.users.length <= this.config.stuffing_distinct_users && !w.users.includes(sub))
        w.users = appendTo(w.users, sub);
      w.evidence = pushEvidence(w.evidence, r.id);
      this.mesh?.stuffing.failed(ip, sub, r.ts, { service: r.service, endpoint: ctx.endpointOf(r), id: r.id });
    }
    this.countAttack(this.stuffing, ip, w, sub, failed, r, ctx);
  }

  /** a failure against a user: counted in its window, and into its live alert */
  private againstUser(sub: string, ip: string | undefined, r: ApiCallRecord, ctx: DetectorContext) {
    const u = this.userWindow(sub, r.ts, ctx);
    u.failures++;
    if (ip && u.ips.length < MAX_IPS && !u.ips.includes(ip)) u.ips = appendTo(u.ips, ip);
    u.evidence = pushEvidence(u.evidence, r.id);
    this.mesh?.bruteForce.failed(sub, undefined, r.ts, { service: r.service, endpoint: ctx.endpointOf(r), id: r.id });
    this.countAttack(this.bruteForce, sub, u, ip, true, r, ctx);
  }

  /**
   * an attempt counted in the window `w` of `key` (an address, a user), into its attack's alert while that is live: a
   * failure carries it on, refreshed when due; once quiet it is forgotten (the attack is over, and the window it ended
   * in raises nothing more). A failure that crosses the threshold of a window that raised none raises one
   */
  private countAttack<W extends AttackWindow<A>, A extends AttackAlert>(
    kind: AttackKind<W, A>,
    key: string,
    w: W,
    other: string | undefined,
    failed: boolean,
    r: ApiCallRecord,
    ctx: DetectorContext,
  ): void {
    const a = w.alert;
    if (a !== undefined) {
      if (isLive(a.signalledAt, r.ts, ctx)) {
        if (!kind.count(a, other, failed)) return;
        a.failures++;
        a.evidence = pushEvidence(a.evidence, r.id);
        a.to = r.ts;
        if (kind.unreported.refresh(key, a.service, a.endpoint, r.ts, a.signalledAt)) kind.signal(key, a, ctx);
        return;
      }
      w.alert = undefined;
    }
    if (!failed || w.alerted || !kind.crossed(w)) return;
    w.alerted = true;
    const attack: AttackAlert = {
      service: r.service,
      endpoint: ctx.endpointOf(r),
      from: w.start,
      to: r.ts,
      signalledAt: -1,
      failures: w.failures,
      evidence: [...w.evidence],
    };
    w.alert = kind.alertOf(w, attack);
    kind.signal(key, w.alert, ctx);
  }

  /** a service's window closed: its attacks' alerts report the failures they have not yet */
  onWindow(w: WindowMetrics, ctx: DetectorContext): void {
    this.unreportedIps.onWindow(w, (ip) => {
      const a = this.ips.peek(ip)?.alert;
      if (a && a.to > a.signalledAt) this.signalStuffing(ip, a, ctx);
    });
    this.unreportedUsers.onWindow(w, (sub) => {
      const a = this.users.peek(sub)?.alert;
      if (a && a.to > a.signalledAt) this.signalBruteForce(sub, a, ctx);
    });
  }

  joinMesh(scope: MeshScope): void {
    const common = { windowMs: this.config.window_ms };
    this.mesh = {
      stuffing: new SharedAttackCounts(scope, {
        ...common,
        kind: 'stuffing',
        shareOf: 'distinct_users',
        threshold: this.config.stuffing_distinct_users,
        maxKeys: this.config.max_ips,
      }),
      bruteForce: new SharedAttackCounts(scope, {
        ...common,
        kind: 'bruteforce',
        shareOf: 'failures',
        threshold: this.config.brute_force_failures,
        maxKeys: this.config.max_users,
      }),
    };
  }

  async syncMesh(ctx: DetectorContext): Promise<void> {
    await this.mesh?.stuffing.sync((s) => this.signalShared('credential_stuffing', s, ctx));
    await this.mesh?.bruteForce.sync((s) => this.signalShared('brute_force', s, ctx));
  }

  /** an address (a user) whose failures at several partitions' services together make credential stuffing (brute force) */
  private signalShared(kind: 'credential_stuffing' | 'brute_force', s: SharedAttack, ctx: DetectorContext): void {
    const a = s.share;
    const within = durationText(this.config.window_ms);
    const where = `at services on ${s.partitions} partitions within ${within}`;
    const here = `the last ${new Date(a.to).toISOString()}`;
    ctx.emit({
      kind,
      severity: 'high',
      service: a.service,
      endpoint: a.endpoint,
      subject: { type: kind === 'brute_force' ? 'user' : 'ip', value: s.key },
      at: a.to,
      since: a.from,
      ...(kind === 'brute_force'
        ? {
            summary: `${s.total} failed logins for user ${s.key} ${where}`,
            expected: `fewer than ${this.config.brute_force_failures} failures per user per ${within}`,
            observed: `${s.total} failures across ${s.partitions} partitions (${a.failures} of them at ${a.service}, ${here})`,
            metrics: { failures: s.total, partitions: s.partitions },
          }
        : {
            summary: `${s.total} distinct users failed to log in from ${s.key} ${where}`,
            expected: `fewer than ${this.config.stuffing_distinct_users} distinct users failing per address per ${within}`,
            observed: `${s.total} distinct users across ${s.partitions} partitions (each partition's summed; ${a.users.length} of them, ${a.failures} failures at ${a.service}, ${here})`,
            metrics: { distinct_users: s.total, partitions: s.partitions, failures: a.failures },
          }),
      recordIds: [...a.evidence],
    });
  }

  private signalStuffing(ip: string, a: StuffingAlert, ctx: DetectorContext): void {
    a.signalledAt = a.to;
    // each failure names at most one user: an estimate past their number is the sketch's error
    const users = Math.round(countDistinct(a, a.failures));
    const span = a.to - a.from;
    ctx.emit({
      kind: 'credential_stuffing',
      severity: 'high',
      service: a.service,
      endpoint: a.endpoint,
      subject: { type: 'ip', value: ip },
      at: a.to,
      summary: `${users} distinct users failed to log in from ${ip} in ${durationText(span)}`,
      expected: `fewer than ${this.config.stuffing_distinct_users} distinct users failing per address per ${durationText(this.config.window_ms)}`,
      observed: `${users} distinct users, ${a.failures} failures in ${a.attempts} attempts from ${new Date(a.from).toISOString()} to ${new Date(a.to).toISOString()}`,
      recordIds: [...a.evidence],
      metrics: { distinct_users: users, failures: a.failures, attempts: a.attempts, span_s: span / 1000 },
    });
  }

  private signalBruteForce(sub: string, a: BruteForceAlert, ctx: DetectorContext): void {
    a.signalledAt = a.to;
    const span = a.to - a.from;
    const ips = a.ips.length;
    ctx.emit({
      kind: 'brute_force',
      severity: 'high',
      service: a.service,
      endpoint: a.endpoint,
      subject: { type: 'user', value: sub },
      at: a.to,
      summary: `${a.failures} failed logins for user ${sub} in ${durationText(span)}`,
      expected: `fewer than ${this.config.brute_force_failures} failures per user per ${durationText(this.config.window_ms)}`,
      observed: `${a.failures} failures from ${ips}${ips === MAX_IPS ? '+' : ''} address${ips === 1 ? '' : 'es'} from ${new Date(a.from).toISOString()} to ${new Date(a.to).toISOString()}`,
      recordIds: [...a.evidence],
      metrics: { failures: a.failures, source_ips: ips, span_s: span / 1000 },
    });
  }

  /** the address's window at `ts`: a new one past window_ms, carrying on its attack's alert while that is live */
  private ipWindow(ip: string, ts: number, ctx: DetectorContext): IpWindow {
    let w = this.ips.get(ip, ts);
    if (!w || ts - w.start > this.config.window_ms) {
      const alert = w?.alert !== undefined && isLive(w.alert.signalledAt, ts, ctx) ? w.alert : undefined;
      w = { start: ts, attempts: 0, failures: 0, users: [], alerted: alert !== undefined, evidence: [], alert };
      this.ips.set(ip, w, ts);
    }
    return w;
  }

  private userWindow(sub: string, ts: number, ctx: DetectorContext): UserWindow {
    let w = this.users.get(sub, ts);
    if (!w || ts - w.start > this.config.window_ms) {
      const alert = w?.alert !== undefined && isLive(w.alert.signalledAt, ts, ctx) ? w.alert : undefined;
      w = { start: ts, failures: 0, ips: [], alerted: alert !== undefined, evidence: [], alert };
      this.users.set(sub, w, ts);
    }
    return w;
  }

  snapshot(): unknown {
    return {
      v: 1,
      ips: this.ips.dump((w): IpWindowJson => ({ ...w, alert: w.alert ? stuffingToJson(w.alert) : undefined })),
      users: this.users.dump((w) => w),
      failures: this.failures,
      unreportedIps: this.unreportedIps.dump(),
      unreportedUsers: this.unreportedUsers.dump(),
      ...(this.mesh
        ? { shared: this.mesh.stuffing.snapshot(), sharedBruteForce: this.mesh.bruteForce.snapshot() }
        : {}),
    };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        // windows of a checkpoint written before alerts counted their attack have no alert: one they raised is not
        // refreshed (the previous version did not), and the next window raises anew
        this.ips.load(s.ips as [string, IpWindowJson, number][], (w) => ({
          ...w,
          alert: w.alert ? { ...w.alert, ...distinctFromJson(w.alert) } : undefined,
        }));
        this.users.load(s.users as [string, UserWindowJson, number][], (w) => ({ ...w, alert: w.alert }));
        this.failures = Number(s.failures) || 0;
        this.unreportedIps.load(s.unreportedIps);
        this.unreportedUsers.load(s.unreportedUsers);
        this.mesh?.stuffing.restore(s.shared as Parameters<SharedAttackCounts['restore']>[0]);
        this.mesh?.bruteForce.restore(s.sharedBruteForce as Parameters<SharedAttackCounts['restore']>[0]);
      },
      () => {
        this.ips.clear();
        this.users.clear();
        this.failures = 0;
        this.unreportedIps.clear();
        this.unreportedUsers.clear();
        this.mesh?.stuffing.restore(undefined);
        this.mesh?.bruteForce.restore(undefined);
      },
    );
  }

  stats(): Record<string, number> {
    return {
      ips: this.ips.size,
      users: this.users.size,
      ips_evicted: this.ips.evicted,
      users_evicted: this.users.evicted,
      auth_failures: this.failures,
      ...this.mesh?.stuffing.stats(),
      ...prefixed('brute_force_', this.mesh?.bruteForce.stats()),
    };
  }
}

const prefixed = (prefix: string, stats: Record<string, number> | undefined): Record<string, number> =>
  Object.fromEntries(Object.entries(stats ?? {}).map(([k, v]) => [`${prefix}${k}`, v]));
