import type { ApiCallRecord } from '../../core/record.js';
import type { Detector, DetectorContext } from '../detector.js';
import { BoundedMap } from '../shared/bounded-map.js';
import { safeRestore } from '../shared/detector-kit.js';
import { appendTo, isMeshHop, pushEvidence } from '../shared/record-fields.js';
import { RouteShapes } from '../shared/route-shapes.js';
import type { CredentialStuffingConfig } from './config.js';

interface IpWindow {
  start: number;
  attempts: number;
  failures: number;
  users: string[];
  alerted: boolean;
  evidence: string[];
}

interface UserWindow {
  start: number;
  failures: number;
  ips: string[];
  alerted: boolean;
  evidence: string[];
}

/**
 * Authentication failures (401/403 on a login route, or `user.authOutcome = failure`, e.g. from an IdP) counted
 * per source address — many distinct users failing from one address is credential stuffing — and per target user —
 * many failures against one account is brute force. Windows run on event time.
 */
export class CredentialStuffingDetector implements Detector {
  readonly type = 'credential_stuffing';
  private readonly ips: BoundedMap<string, IpWindow>;
  private readonly users: BoundedMap<string, UserWindow>;
  private readonly loginRoutes: Set<string>;
  private readonly routes = new RouteShapes();
  private failures = 0;

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
    if (ip) {
      const w = this.ipWindow(ip, r.ts);
      w.attempts++;
      if (failed) {
        w.failures++;
        if (sub && w.users.length <= this.config.stuffing_distinct_users && !w.users.includes(sub))
          w.users = appendTo(w.users, sub);
        w.evidence = pushEvidence(w.evidence, r.id);
        if (!w.alerted && w.users.length >= this.config.stuffing_distinct_users) {
          w.alerted = true;
          ctx.emit({
            kind: 'credential_stuffing',
            severity: 'high',
            service: r.service,
            endpoint: ctx.endpointOf(r),
            subject: { type: 'ip', value: ip },
            at: r.ts,
            summary: `${w.users.length}+ distinct users failed to log in from ${ip} within ${Math.round(this.config.window_ms / 60_000)} min`,
            expected: `fewer than ${this.config.stuffing_distinct_users} distinct users failing per address per window`,
            observed: `${w.users.length} distinct users, ${w.failures} failures in ${w.attempts} attempts`,
            recordIds: [...w.evidence],
            metrics: { distinct_users: w.users.length, failures: w.failures, attempts: w.attempts },
          });
        }
      }
    }
    if (failed) this.failures++;
    if (failed && sub) {
      const u = this.userWindow(sub, r.ts);
      u.failures++;
      if (ip && u.ips.length < 32 && !u.ips.includes(ip)) u.ips = appendTo(u.ips, ip);
      u.evidence = pushEvidence(u.evidence, r.id);
      if (!u.alerted && u.failures >= this.config.brute_force_failures) {
        u.alerted = true;
        ctx.emit({
          kind: 'brute_force',
          severity: 'high',
          service: r.service,
          endpoint: ctx.endpointOf(r),
          subject: { type: 'user', value: sub },
          at: r.ts,
          summary: `${u.failures} failed logins for user ${sub} within ${Math.round(this.config.window_ms / 60_000)} min`,
          expected: `fewer than ${this.config.brute_force_failures} failures per user per window`,
          observed: `${u.failures} failures from ${u.ips.length} address(es)`,
          recordIds: [...u.evidence],
          metrics: { failures: u.failures, source_ips: u.ips.length },
        });
      }
    }
  }

  private ipWindow(ip: string, ts: number): IpWindow {
    let w = this.ips.get(ip, ts);
    if (!w || ts - w.start > this.config.window_ms) {
      w = { start: ts, attempts: 0, failures: 0, users: [], alerted: false, evidence: [] };
      this.ips.set(ip, w, ts);
    }
    return w;
  }

  private userWindow(sub: string, ts: number): UserWindow {
    let w = this.users.get(sub, ts);
    if (!w || ts - w.start > this.config.window_ms) {
      w = { start: ts, failures: 0, ips: [], alerted: false, evidence: [] };
      this.users.set(sub, w, ts);
    }
    return w;
  }

  snapshot(): unknown {
    return { v: 1, ips: this.ips.dump((w) => w), users: this.users.dump((w) => w), failures: this.failures };
  }

  restore(state: unknown): void {
    safeRestore(
      this.type,
      state,
      (s) => {
        this.ips.load(s.ips as [string, IpWindow, number][], (w) => w);
        this.users.load(s.users as [string, UserWindow, number][], (w) => w);
        this.failures = Number(s.failures) || 0;
      },
      () => {
        this.ips.clear();
        this.users.clear();
        this.failures = 0;
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
    };
  }
}
